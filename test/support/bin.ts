// Runs the `arpypi` bin as users do (optionally as an ordinary user, uid 1000, when the tests
// run as root), and looks at what it left: every file with its bytes and mode.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './generate.js';
import { outcome } from './tools.js';
import type { RunResult } from './tools.js';

export const BIN = path.join(ROOT, 'dist/bin/arpypi.js');
export const ANSWERS = ['--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', 'acme-utils'];
export const asRoot = process.getuid?.() === 0;

export const made: string[] = [];
/** Removes every folder `folder()` made (for afterAll). */
export const cleanUp = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
};

/** A new folder `outer/mono`, so that files a run must not touch can sit beside it in `outer`. */
export function folder(prefix = 'bin'): { outer: string; dir: string } {
  const outer = mkdtempSync(path.join(os.tmpdir(), `arpypi-${prefix}-`));
  made.push(outer);
  const dir = path.join(outer, 'mono');
  mkdirSync(dir);
  return { outer, dir };
}

/**
 * A node that uid 1000 may run: this one, unless it lies where only root can reach it
 * (`npm exec --package=node@24` runs from root's npm cache); then a copy beside the tests'.
 */
let userNode: string | undefined;
function nodeFor(uid: number | undefined): string {
  if (uid === undefined) return process.execPath;
  if (!userNode) {
    const probe = spawnSync(process.execPath, ['--version'], { uid, gid: uid });
    if (probe.status === 0) userNode = process.execPath;
    else {
      // Kept for the whole run, not in `made`: files that share a vitest worker share this
      // module, and one file's clean-up would remove the copy another file still uses. The
      // run's temporary folder goes at its end (test/support/global-setup.mjs).
      const dir = mkdtempSync(path.join(os.tmpdir(), 'arpypi-node-'));
      chmodSync(dir, 0o755);
      userNode = path.join(dir, 'node');
      cpSync(process.execPath, userNode);
      chmodSync(userNode, 0o755);
    }
  }
  return userNode;
}

export interface BinOptions {
  uid?: number;
  /** Another build of the bin (a newer generator). */
  bin?: string;
  /** Node flags before the bin, such as --require. */
  node?: string[];
  env?: Record<string, string>;
}

export function arpypi(cwd: string, args: readonly string[], options: BinOptions = {}): RunResult {
  const r = spawnSync(nodeFor(options.uid), [...(options.node ?? []), options.bin ?? BIN, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, as a child that runs beside others (two runs at once). */
export function arpypiAsync(cwd: string, args: readonly string[]): Promise<RunResult> {
  return outcome(spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A run that must succeed, with no stack trace. */
export function arpypiOk(cwd: string, args: readonly string[], options: BinOptions = {}): RunResult {
  const r = arpypi(cwd, args, options);
  if (r.status !== 0 || /\n\s+at /.test(r.stderr)) throw new Error(`arpypi ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A repository made by the bin with ANSWERS and `more` flags, in a new folder. */
export function generated(more: readonly string[] = ['--function', 'hello']): { outer: string; dir: string } {
  const where = folder();
  arpypiOk(where.dir, [...ANSWERS, ...more, '--yes']);
  return where;
}

/** Every file below dir (links as links), with its mode and bytes; `.git` too, unless left out. */
export function tree(dir: string, withGit = true): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const name of readdirSync(path.join(dir, sub)).sort()) {
      if (!withGit && name === '.git') continue;
      const rel = sub ? `${sub}/${name}` : name;
      const stat = statSync(path.join(dir, rel), { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(rel);
      else out[rel] = stat ? `${(stat.mode & 0o777).toString(8)} ${readFileSync(path.join(dir, rel), 'latin1')}` : 'dangling link';
    }
  };
  walk('');
  return out;
}

export const read = (dir: string, file: string): string => readFileSync(path.join(dir, file), 'utf8');
export const stored = (dir: string): Record<string, any> => JSON.parse(read(dir, '.yo-rc.json'))['generator-arpypi'];

/** Rewrites the generator's answers in .yo-rc.json. */
export function editStore(dir: string, edit: (store: Record<string, any>) => void): void {
  const rc = JSON.parse(read(dir, '.yo-rc.json'));
  edit(rc['generator-arpypi']);
  writeFileSync(path.join(dir, '.yo-rc.json'), `${JSON.stringify(rc, null, 2)}\n`);
}

/** Hands the folder (an outer one from folder(), so that it can be reached) and everything in it to uid 1000 (root can read and write anything). */
export function handOver(dir: string): void {
  if (!asRoot) throw new Error("this test runs as root, as CI and the README's test command do, to run the bin as an ordinary user");
  spawnSync('chown', ['-R', '1000:1000', dir]);
}

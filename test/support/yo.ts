// Runs the real `yo` CLI on the built generator, as users do. yo run as root drops to
// uid 1000, so as root the folders it writes (and its HOME) belong to that user.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from './generate.js';
import { outcome } from './tools.js';
import type { RunResult } from './tools.js';

const YO = path.join(ROOT, 'node_modules/yo/lib/cli.js');
const asRoot = process.getuid?.() === 0;

/** A folder yo may write into. */
export function yoDir(prefix: string): string {
  const dir = tempDir(prefix);
  if (asRoot) chownSync(dir, 1000, 1000);
  return dir;
}

/** A copy of SOURCE that yo may write into. */
export function yoCopy(source: string, prefix: string): string {
  const dir = yoDir(prefix);
  cpSync(source, dir, { recursive: true });
  if (asRoot) spawnSync('chown', ['-R', '1000:1000', dir]);
  return dir;
}

let shared: { home: string; nodePath: string } | undefined;
function yoEnvironment() {
  if (!shared) {
    const home = yoDir('yo-home');
    // yo finds generator-* packages on NODE_PATH, as it would after `npm link`.
    const nodePath = tempDir('yo-node-path');
    chmodSync(nodePath, 0o755);
    symlinkSync(ROOT, path.join(nodePath, 'generator-arpypi'));
    shared = { home, nodePath };
  }
  return shared;
}

/** The environment and command line of a yo run, for callers that run it themselves (tmux). */
export function yoCommand(args: readonly string[]): { command: string[]; env: Record<string, string> } {
  const { home, nodePath } = yoEnvironment();
  return {
    command: [process.execPath, YO, ...args, '--no-insight'],
    env: { HOME: home, NODE_PATH: nodePath, CLOUDSDK_CONFIG: path.join(home, 'gcloud') },
  };
}

export function yo(cwd: string, args: readonly string[]): Promise<RunResult> {
  const { home, nodePath } = yoEnvironment();
  mkdirSync(cwd, { recursive: true });
  const child = spawn(process.execPath, [YO, ...args, '--no-insight'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home, NODE_PATH: nodePath, CI: 'true', CLOUDSDK_CONFIG: path.join(home, 'gcloud') },
  });
  return outcome(child);
}

/** A repository made by the bin (a yo run costs some 2 s of CPU; the two make the same files), then handed to yo's user. */
export function madeByBin(dir: string, args: readonly string[]): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/bin/arpypi.js'), ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`arpypi ${args.join(' ')} failed: ${r.stderr}`);
  if (asRoot) spawnSync('chown', ['-R', '1000:1000', dir]);
}

/** Splits a command line as the README writes it: spaces, and single-quoted words. */
export function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

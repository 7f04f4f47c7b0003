// Loaded before each test file by the profile's vitest config only (bench/profile/vitest.config.ts).
// It names the file in ARPYPI_PROFILE_FILE for every program the file starts, sends the
// programs the PATH shims cannot see (absolute paths: node for yo and the bin, a venv's pip,
// gcloud's bundled python) through the same wrapper, and records the worker's own CPU
// and its children's, so that a file's CPU comes from the full run, not from a second one.
import { accessSync, appendFileSync, constants, readFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { afterAll, expect } from 'vitest';

const RUN = process.env.ARPYPI_PROFILE_DIR;
if (!RUN) throw new Error('ARPYPI_PROFILE_DIR is not set: this setup file is for bench/profile/suite.mjs only.');
const WRAP = path.join(RUN, 'shims/wrap.pl');
/** Where suite.mjs put the shims: the one for gcloud sits in a copy of the SDK's layout. */
const SHIM_DIRS = [path.join(RUN, 'shims'), path.join(RUN, 'gcloud-sdk/bin')];
const ROOT = path.resolve(import.meta.dirname, '../..');
const FILE = path.relative(ROOT, expect.getState().testPath ?? '');
if (!FILE) throw new Error('vitest did not say which test file this worker runs.');

/** Seconds of CPU: the worker's own (all threads) and its waited-for descendants' (/proc/self/stat). */
function cpu() {
  const own = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const ticks = 100; // USER_HZ, which Linux fixes at 100 for /proc
  return {
    user: own.user / 1e6, sys: own.system / 1e6,
    childUser: Number(fields[13]) / ticks, childSys: Number(fields[14]) / ticks,
  };
}

const record = (event: string, file: string) =>
  appendFileSync(path.join(RUN!, 'files.jsonl'), `${JSON.stringify({ event, file, pid: process.pid, at: Date.now() / 1000, ...cpu() })}\n`);

process.env.ARPYPI_PROFILE_FILE = FILE;
// The worker's direct children are the file's calls: none of them is nested in another call.
process.env.ARPYPI_PROFILE_PARENT = `worker:${process.pid}`;
record('start', FILE);
afterAll(() => record('end', FILE));

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The command and arguments that run COMMAND through the wrapper, or undefined to leave it alone. */
function reroute(command: unknown, args: readonly string[], options: { shell?: unknown; cwd?: unknown; env?: NodeJS.ProcessEnv } | undefined): [string, string[]] | undefined {
  if (typeof command !== 'string' || options?.shell) return undefined;
  const dirs = ((options?.env ?? process.env).PATH ?? '').split(':').filter(Boolean);
  const candidates = command.includes('/') ? [path.resolve(String(options?.cwd ?? process.cwd()), command)] : dirs.map((d) => path.join(d, command));
  const found = candidates.find((c) => { try { accessSync(c, constants.X_OK); return true; } catch { return false; } });
  // A program that cannot be found keeps its usual failure (ENOENT).
  if (!found) return undefined;
  const shim = SHIM_DIRS.includes(path.dirname(found));
  // A tmux session's command runs under the tmux server, outside this worker: it is wrapped too,
  // marked as outside, so that its CPU is added to the file's (the worker never waits for it).
  if (path.basename(command) === 'tmux' && args[0] === 'new-session' && args.length > 1) {
    const line = args.at(-1)!;
    const rest = [...args.slice(0, -1), `ARPYPI_PROFILE_FILE=${quote(process.env.ARPYPI_PROFILE_FILE ?? '')} ARPYPI_PROFILE_PARENT= ARPYPI_PROFILE_OUTSIDE=1 exec ${quote(WRAP)} /bin/sh -c ${quote(line)}`];
    return shim ? [command, rest] : [WRAP, [command, ...rest]];
  }
  // A shim found first on PATH logs the run itself.
  return shim ? undefined : [WRAP, [command, ...args]];
}

const hooked = Symbol.for('arpypi.profile.hooked');
const childProcess = createRequire(import.meta.url)('node:child_process') as Record<string, unknown> & { [hooked]?: boolean };
if (!childProcess[hooked]) {
  childProcess[hooked] = true;
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
    const original = childProcess[name] as (...a: unknown[]) => unknown;
    childProcess[name] = function (this: unknown, command: unknown, ...rest: unknown[]) {
      const hasArgs = Array.isArray(rest[0]);
      const args = (hasArgs ? rest[0] : []) as string[];
      const options = (hasArgs ? rest[1] : rest[0]) as Parameters<typeof reroute>[2];
      const routed = reroute(command, args, options && typeof options === 'object' ? options : undefined);
      if (!routed) return original.call(this, command, ...rest);
      return original.call(this, routed[0], routed[1], ...(hasArgs ? rest.slice(1) : rest));
    };
  }
  // ES module imports of node:child_process see the patched functions too.
  syncBuiltinESMExports();
  // After the last afterAll: what the worker still did and waited for (one worker may run several files).
  process.on('exit', () => record('exit', process.env.ARPYPI_PROFILE_FILE ?? ''));
}

// A run folder for the profile: wrap.pl, the PATH shims that lead to it, an empty calls.tsv,
// and the wrapper's own cost per call. Shared by suite.mjs (npm test) and ci.mjs (.ci/run).
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sdkWithGcloud } from '../../test/support/global-setup.mjs';

/**
 * Programs the tests, the scripts they run and CI start by name; a shim is made for those on PATH.
 * Not bash: the hook logs the scripts the tests run, and the scripts' own helpers (pyenv's python3
 * is a bash script) are better counted in the program that runs them. Not twine: the stand-ins'
 * tests read its #! line to find Debian's python, and the hook logs the suite's twine runs.
 * gcloud has its own shim below.
 */
const NAMES = ['git', 'python3', 'python', 'pip', 'pip3', 'shellcheck', 'tmux', 'curl', 'node', 'npm', 'npx', 'uv', 'tar', 'zip', 'unzip', 'jq', 'apt-get'];

/** CPU seconds of this process's waited-for children (/proc/self/stat, in USER_HZ = 1/100 s). */
export function childCpu() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

/** Makes the run folder (OUT, or a new one under the temporary folder); returns it with PATH's new head. */
export function makeRun(out) {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing; apt-get install -y time');
  const run = out ? path.resolve(out) : mkdtempSync(path.join(os.tmpdir(), 'arpypi-profile-'));
  if (existsSync(path.join(run, 'calls.tsv'))) throw new Error(`${run} already holds a profile; give --out a new folder.`);
  const shims = path.join(run, 'shims');
  mkdirSync(shims, { recursive: true });
  // yo, and the ordinary users of the safety tests and of CI, run as other uids: they must reach the shims and the log.
  chmodSync(run, 0o755);
  chmodSync(shims, 0o755);

  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch] ?? 'none';
  const onPath = (name) => spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  // Each program as PATH gives it now, for a wrapper that finds only links back to the shims (a build
  // step's PATH). pyenv's shims find their program through PATH again, which would lead back to these
  // shims: the wrapper runs what pyenv would run, resolved now.
  const real = [...NAMES, 'gcloud'].map((name) => [name, onPath(name)]).filter(([, found]) => found.startsWith('/'))
    .map(([name, found]) => [name, found.includes('/.pyenv/shims/') ? spawnSync('pyenv', ['which', name], { encoding: 'utf8' }).stdout.trim() : found])
    .filter(([, found]) => found.startsWith('/')).map(([name, found]) => `${name}=${found}`).join(';');
  const wrapper = readFileSync(path.join(import.meta.dirname, 'wrap.pl'), 'utf8').replace('@RUN@', run).replace('@ARCH@', arch).replace('@REAL@', real);
  writeFileSync(path.join(shims, 'wrap.pl'), wrapper, { mode: 0o755 });
  const shimmed = NAMES.filter((name) => onPath(name).startsWith('/'));
  for (const name of shimmed) symlinkSync('wrap.pl', path.join(shims, name));
  const head = [shims];
  // The tests find gcloud's install root from the gcloud on PATH: its shim is the bin/gcloud of a
  // copy of the SDK that links to everything else of it.
  const gcloud = onPath('gcloud');
  if (gcloud.startsWith('/')) {
    const mirror = path.join(run, 'gcloud-sdk');
    sdkWithGcloud(path.dirname(path.dirname(realpathSync(gcloud))), mirror, wrapper);
    head.push(path.join(mirror, 'bin'));
    shimmed.push('gcloud');
  }

  // The wrapper's own cost per call, charged to the caller: 200 runs of `true` with and without it.
  const calibrate = (command, args) => {
    const before = childCpu();
    const started = performance.now();
    for (let i = 0; i < 200; i += 1) spawnSync(command, args);
    return { cpu: (childCpu() - before) / 200, wall: (performance.now() - started) / 1000 / 200 };
  };
  const bare = calibrate('/bin/true', []);
  const wrapped = calibrate(path.join(shims, 'wrap.pl'), ['/bin/true']);
  const calls = path.join(run, 'calls.tsv');
  closeSync(openSync(calls, 'w'));
  chmodSync(calls, 0o666);
  const overhead = { cpu: Math.max(0, wrapped.cpu - bare.cpu), wall: Math.max(0, wrapped.wall - bare.wall) };
  return { run, path: [...head, process.env.PATH].join(':'), shimmed, overhead };
}

/** makeRun, or the reason it cannot on stderr and exit 1 (for the command-line tools). */
export function makeRunOrExit(out) {
  try {
    return makeRun(out);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}

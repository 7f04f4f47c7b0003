#!/usr/bin/env node
// Where the test suite's time goes: runs `npm test` once on this checkout with every program
// the tests start logged (PATH shims and a hook on child_process, both through wrap.pl),
// each test file's CPU taken from its vitest worker, and the whole run under /usr/bin/time -v.
// Writes the raw logs and report.md into a run folder, and prints the report.
//
//   npm run profile [-- --out DIR] [-- --plain] [-- test/FILE.test.ts ...]
//   node bench/profile/report.mjs DIR      (the report again, from a run folder)
//
// --plain also runs `npm test` as it stands afterwards (no shims, no hook), for totals free
// of the profile's own cost. It asserts nothing: timings belong here, never in tests.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeReport } from './report.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HERE = import.meta.dirname;
/**
 * Programs the tests and the scripts they run start by name; a shim is made for those on PATH.
 * Not bash: the hook logs the scripts the tests run, and the scripts' own helpers (pyenv's python3
 * is a bash script) are better counted in the program that runs them. gcloud has its own shim below.
 */
const NAMES = ['git', 'python3', 'python', 'pip', 'pip3', 'twine', 'shellcheck', 'tmux', 'curl', 'node', 'npm', 'npx', 'uv', 'tar', 'zip', 'unzip', 'jq'];

const { values: opts, positionals: files } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    plain: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log('Usage: node bench/profile/suite.mjs [--out DIR] [--plain] [test/FILE.test.ts ...]');
  process.exit(0);
}
if (!existsSync('/usr/bin/time')) {
  console.error('/usr/bin/time is missing; apt-get install -y time');
  process.exit(1);
}

const run = opts.out ? path.resolve(opts.out) : mkdtempSync(path.join(os.tmpdir(), 'arpypi-profile-'));
if (existsSync(path.join(run, 'calls.tsv'))) {
  console.error(`${run} already holds a profile; give --out a new folder.`);
  process.exit(1);
}
const shims = path.join(run, 'shims');
mkdirSync(shims, { recursive: true });
// yo, and the safety tests' ordinary user, run as uid 1000: they must reach the shims and the log.
chmodSync(run, 0o755);
chmodSync(shims, 0o755);

const arch = { x64: 'x64', arm64: 'arm64' }[process.arch] ?? 'none';
const wrapper = readFileSync(path.join(HERE, 'wrap.pl'), 'utf8').replace('@RUN@', run).replace('@ARCH@', arch);
writeFileSync(path.join(shims, 'wrap.pl'), wrapper, { mode: 0o755 });
const onPath = (name) => spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
const shimmed = NAMES.filter((name) => onPath(name).startsWith('/'));
for (const name of shimmed) symlinkSync('wrap.pl', path.join(shims, name));
// The tests find gcloud's install root from the gcloud on PATH (two folders above the real file):
// its shim is a real file in a folder that links to everything else of the SDK.
const gcloud = onPath('gcloud');
const sdkPath = [];
if (gcloud.startsWith('/')) {
  const sdk = path.dirname(path.dirname(realpathSync(gcloud)));
  const mirror = path.join(run, 'gcloud-sdk');
  mkdirSync(path.join(mirror, 'bin'), { recursive: true, mode: 0o755 });
  for (const entry of readdirSync(sdk)) if (entry !== 'bin') symlinkSync(path.join(sdk, entry), path.join(mirror, entry));
  writeFileSync(path.join(mirror, 'bin/gcloud'), wrapper, { mode: 0o755 });
  sdkPath.push(path.join(mirror, 'bin'));
  shimmed.push('gcloud');
}

/** CPU seconds of this process's waited-for children (/proc/self/stat, in USER_HZ = 1/100 s). */
const childCpu = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
};
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

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const git = (...args) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).stdout.trim();
const meta = {
  commit: git('rev-parse', 'HEAD'),
  dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
  node: process.version,
  cpus: os.cpus().length,
  shims: shimmed,
  files,
  overhead: { cpu: Math.max(0, wrapped.cpu - bare.cpu), wall: Math.max(0, wrapped.wall - bare.wall) },
  // vitest orders files by the durations it cached from earlier runs, by size without them.
  vitestCache: existsSync(path.join(ROOT, 'node_modules/.vite/vitest')),
  load: { start: loadavg() },
};

/** Runs `npm test ARGS` under /usr/bin/time -v, its output both shown and kept; load sampled every 5 s. */
function npmTest(label, args, env) {
  return new Promise((resolve) => {
    const samples = [];
    const timer = setInterval(() => samples.push([Date.now() / 1000, ...loadavg()]), 5000);
    const log = openSync(path.join(run, `${label}.log`), 'w');
    const started = Date.now() / 1000;
    const child = spawn('/usr/bin/time', ['-v', '-o', path.join(run, `${label}.time.txt`), 'npm', 'test', '--', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (d) => { process.stdout.write(d); writeFileSync(log, d); });
    }
    child.on('close', (status) => {
      clearInterval(timer);
      closeSync(log);
      writeFileSync(path.join(run, `${label}.load.tsv`), samples.map((s) => s.join('\t')).join('\n'));
      resolve({ status, started, ended: Date.now() / 1000 });
    });
  });
}

console.log(`profile: ${run} (wrapper ${(meta.overhead.cpu * 1000).toFixed(1)} ms CPU a call; load ${meta.load.start.join(' ')})`);
meta.profiled = await npmTest('npm-test', [
  '--config', path.join(HERE, 'vitest.config.ts'), '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(run, 'vitest.json')}`, ...files,
], { ...process.env, PATH: [shims, ...sdkPath, process.env.PATH].join(':'), ARPYPI_PROFILE_DIR: run });
meta.load.end = loadavg();
if (opts.plain) {
  meta.plain = await npmTest('npm-test-plain', files, process.env);
  meta.load.endPlain = loadavg();
}
writeFileSync(path.join(run, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
const report = writeReport(run);
console.log(`\n${report}\nprofile: the report and the raw logs are in ${run}`);
process.exitCode = meta.profiled.status === 0 && (meta.plain?.status ?? 0) === 0 ? 0 : 1;

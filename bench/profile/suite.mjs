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
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeReport } from './report.mjs';
import { loadavg, makeRunOrExit } from './shims.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HERE = import.meta.dirname;

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
const made = makeRunOrExit(opts.out);
const { run } = made;
const git = (...args) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).stdout.trim();
const meta = {
  commit: git('rev-parse', 'HEAD'),
  dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
  node: process.version,
  cpus: os.cpus().length,
  shims: made.shimmed,
  files,
  overhead: made.overhead,
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
// gcloud as a process a call (not through the tests' fork server), so that each call is logged.
], { ...process.env, PATH: made.path, ARPYPI_PROFILE_DIR: run, ARPYPI_TEST_GCLOUD: 'plain' });
meta.load.end = loadavg();
if (opts.plain) {
  meta.plain = await npmTest('npm-test-plain', files, process.env);
  meta.load.endPlain = loadavg();
}
writeFileSync(path.join(run, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
const report = writeReport(run);
console.log(`\n${report}\nprofile: the report and the raw logs are in ${run}`);
process.exitCode = meta.profiled.status === 0 && (meta.plain?.status ?? 0) === 0 ? 0 : 1;

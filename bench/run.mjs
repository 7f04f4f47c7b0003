#!/usr/bin/env node
// Start-up benchmark of the `arpypi` bin, side by side with what it replaces:
// `node -e ''`, `yo arpypi`, a bare "hello" Yeoman generator under the same yo,
// and cookiecutter rendering a template made from the generator's own output.
// Also times adding the 1st and the 50th function, and the bin's peak RSS.
//
//   npm run bench [-- --runs 10 --rounds 5 --warmup 2 --no-hyperfine --keep]
//
// Uses hyperfine when it is on PATH, otherwise its own loop; either way the
// commands take turns, round after round, so that a busy spell of the machine
// does not fall on one command only.
// Prints medians of wall time and the ratios the targets are stated in; it
// asserts nothing (timings belong here, never in tests).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync,
  statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'dist/bin/arpypi.js');
const YO = path.join(ROOT, 'node_modules/.bin/yo');

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    'no-hyperfine': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log('Usage: node bench/run.mjs [--runs N] [--rounds N] [--warmup N] [--no-hyperfine] [--keep]');
  process.exit(0);
}
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);
const ROUNDS = Math.max(1, Math.min(RUNS, Number(opts.rounds)));

// Answers chosen so that no value is part of another or of the templates' own text:
// the cookiecutter template is made by replacing them with placeholders.
const ANSWERS = {
  projectId: 'acmeproj-4821',
  region: 'europe-west1',
  functionRegion: 'europe-west4',
  repository: 'pkgrepo-x',
  githubOwner: 'ownerco',
  githubRepo: 'monorepo-y',
  branch: 'release-z',
  packageName: 'shared-lib-q',
  pythonVersion: '3.13',
  auth: 'native',
};
const FIRST_FUNCTION = 'hello-fn';
const DERIVED = { importName: 'shared_lib_q', runtime: 'python313' };

const kebab = (key) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const appFlags = [...Object.entries(ANSWERS).flatMap(([k, v]) => [`--${kebab(k)}`, v]), '--function', FIRST_FUNCTION, '--yes'];
const q = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------------------
// Set-up: folders, the two Yeoman generators yo must find, the cookiecutter template.

if (!existsSync(BIN) || !existsSync(path.join(ROOT, 'dist/generators/app/index.js'))) {
  fail('dist/ is missing; run npm run build first.');
}
const bundled = readFileSync(BIN, 'utf8').slice(0, 200).includes('Bundled by');
const isRoot = process.getuid?.() === 0;
// yo run as root drops to uid 1000 (or SUDO_UID), which must own what it writes.
const yoUid = isRoot ? Number(process.env.SUDO_UID) || 1000 : undefined;
const yoGid = isRoot ? Number(process.env.SUDO_GID) || 1000 : undefined;

const work = mkdtempSync(path.join(os.tmpdir(), 'arpypi-bench-'));
chmodSync(work, 0o755);
process.on('exit', () => {
  if (opts.keep) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
});
const at = (...p) => path.join(work, ...p);
const giveToYo = (dir) => {
  if (yoUid !== undefined) {
    execFileSync('chown', ['-R', `${yoUid}:${yoGid}`, dir]);
  }
};

// yo finds generators through NODE_PATH: a folder of generator-* entries, one
// folder per generator so that each yo run looks up the same amount.
mkdirSync(at('node_path/arpypi'), { recursive: true });
symlinkSync(ROOT, at('node_path/arpypi', 'generator-arpypi'));
const hello = at('node_path/hello', 'generator-hello');
mkdirSync(path.join(hello, 'generators/app'), { recursive: true });
writeFileSync(path.join(hello, 'package.json'), `${JSON.stringify({ name: 'generator-hello', version: '1.0.0', type: 'module', files: ['generators'] }, null, 2)}\n`);
writeFileSync(
  path.join(hello, 'generators/app/index.js'),
  "import Generator from 'yeoman-generator';\n\nexport default class extends Generator {\n  writing() {\n    this.fs.write(this.destinationPath('hello.txt'), 'Hello, world!\\n');\n  }\n}\n",
);
// The same yeoman-generator as generator-arpypi's (ES modules ignore NODE_PATH).
symlinkSync(path.join(ROOT, 'node_modules'), path.join(hello, 'node_modules'));

// A home for yo and cookiecutter: their caches and settings stay out of the user's.
mkdirSync(at('home'));
giveToYo(at('home'));
const toolEnv = {
  ...process.env,
  HOME: at('home'),
  NO_UPDATE_NOTIFIER: '1',
  npm_config_update_notifier: 'false',
  FORCE_COLOR: '0',
};

function runBin(cwd, args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: toolEnv });
  if (r.status !== 0) fail(`arpypi ${args.join(' ')} failed in ${cwd}: ${r.stderr}`);
}

// The repository the bin makes, as the reference for the template and the checks.
const reference = at('reference', ANSWERS.githubRepo);
mkdirSync(reference, { recursive: true });
runBin(reference, appFlags);

// Repositories to add the 1st and the 50th function to.
const noFunctions = at('repo-0', ANSWERS.githubRepo);
mkdirSync(noFunctions, { recursive: true });
runBin(noFunctions, appFlags.filter((a, i, all) => a !== '--function' && all[i - 1] !== '--function'));
const fortyNine = at('repo-49', ANSWERS.githubRepo);
cpSync(noFunctions, fortyNine, { recursive: true });
for (let i = 1; i <= 49; i++) runBin(fortyNine, ['function', `fn-${String(i).padStart(2, '0')}`, '--yes']);

// Re-runs: the reference as it is, and the reference with three wiring files edited
// by the user (a line added below each file's first line), for a region change that merges them.
const EDITED_WIRING = ['package/cloudbuild.yaml', 'triggers/package.yaml', `functions/${FIRST_FUNCTION}/cloudbuild.yaml`];
const edited = at('repo-edited', ANSWERS.githubRepo);
cpSync(reference, edited, { recursive: true });
for (const file of EDITED_WIRING) {
  writeFileSync(path.join(edited, file), readFileSync(path.join(edited, file), 'utf8').replace('\n', "\n# the team's own line\n"));
}

// cookiecutter: the reference repository with each answer replaced by its placeholder.
const PLACEHOLDERS = Object.entries({ ...ANSWERS, ...DERIVED, functionName: FIRST_FUNCTION })
  .filter(([key]) => key !== 'auth') // "native" is also plain English in the templates
  .map(([key, value]) => [value, `{{cookiecutter.${key}}}`])
  .sort(([a], [b]) => b.length - a.length);

function templated(text) {
  const parts = [];
  let rest = text;
  for (;;) {
    let hit;
    for (const [value, placeholder] of PLACEHOLDERS) {
      const index = rest.indexOf(value);
      if (index >= 0 && (!hit || index < hit.index)) hit = { index, value, placeholder };
    }
    if (!hit) break;
    parts.push(raw(rest.slice(0, hit.index)), hit.placeholder);
    rest = rest.slice(hit.index + hit.value.length);
  }
  parts.push(raw(rest));
  return parts.join('');
}
// Shell and templates in the output use {{ and {# themselves: Jinja must leave them alone.
const raw = (s) => (/[{%#]/.test(s) && /\{[{%#]/.test(s) ? `{% raw %}${s}{% endraw %}` : s);

const template = at('cookiecutter-template');
function copyTemplated(from, to) {
  // The merge bases are the generator's own bookkeeping (gzip), which cookiecutter has no counterpart of.
  for (const name of readdirSync(from).filter((n) => n !== '.arpypi')) {
    const source = path.join(from, name);
    const target = path.join(to, templated(name));
    if (statSync(source).isDirectory()) {
      mkdirSync(target, { recursive: true });
      copyTemplated(source, target);
    } else {
      writeFileSync(target, templated(readFileSync(source, 'utf8')));
      chmodSync(target, statSync(source).mode & 0o777);
    }
  }
}
const templateRepo = path.join(template, '{{cookiecutter.githubRepo}}');
mkdirSync(templateRepo, { recursive: true });
copyTemplated(reference, templateRepo);
writeFileSync(
  path.join(template, 'cookiecutter.json'),
  `${JSON.stringify({ ...Object.fromEntries(Object.entries(ANSWERS).filter(([k]) => k !== 'auth')), ...DERIVED, functionName: FIRST_FUNCTION }, null, 2)}\n`,
);
const templateFiles = listFiles(templateRepo).length;

function listFiles(dir, base = dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      return lstatSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
    })
    .sort();
}

function sameTree(a, b, skip = () => false) {
  const files = listFiles(a).filter((f) => !skip(f));
  if (JSON.stringify(files) !== JSON.stringify(listFiles(b).filter((f) => !skip(f)))) return 'different file lists';
  for (const file of files) {
    if (!readFileSync(path.join(a, file)).equals(readFileSync(path.join(b, file)))) return `${file} differs`;
    if ((statSync(path.join(a, file)).mode & 0o111) !== (statSync(path.join(b, file)).mode & 0o111)) return `${file}'s mode differs`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// What is timed. Each command runs in a fresh folder that `prepare` makes.

const out = (name) => at('out', name);
const freshDir = (dir, owner) =>
  `rm -rf ${q(dir)} && mkdir -p ${q(dir)}${owner !== undefined ? ` && chown ${owner}:${yoGid} ${q(dir)}` : ''}`;
const envPrefix = `HOME=${q(toolEnv.HOME)} NO_UPDATE_NOTIFIER=1 FORCE_COLOR=0`;
const nodePath = (generator) => `NODE_PATH=${q(at('node_path', generator))}`;
const node = q(process.execPath);
const flags = appFlags.map(q).join(' ');

const BENCHES = [
  { id: 'node', name: "node -e ''", prepare: 'true', command: `${node} -e ''` },
  {
    id: 'arpypi',
    name: 'arpypi --yes (full repo)',
    dir: out('arpypi/repo'),
    prepare: freshDir(out('arpypi/repo')),
    command: `cd ${q(out('arpypi/repo'))} && exec ${node} ${q(BIN)} ${flags}`,
  },
  {
    id: 'rerun',
    name: 'arpypi --yes (re-run, unchanged)',
    dir: out('rerun/repo'),
    prepare: `rm -rf ${q(out('rerun/repo'))} && mkdir -p ${q(out('rerun'))} && cp -a ${q(reference)} ${q(out('rerun/repo'))}`,
    command: `cd ${q(out('rerun/repo'))} && exec ${node} ${q(BIN)} --yes`,
  },
  {
    id: 'region3',
    name: 'arpypi --region (3 edited, merged)',
    dir: out('region3/repo'),
    prepare: `rm -rf ${q(out('region3/repo'))} && mkdir -p ${q(out('region3'))} && cp -a ${q(edited)} ${q(out('region3/repo'))}`,
    command: `cd ${q(out('region3/repo'))} && exec ${node} ${q(BIN)} --region us-east4 --yes`,
  },
  {
    id: 'cookiecutter',
    name: `cookiecutter (${templateFiles} files)`,
    dir: out('cookiecutter/repo'),
    prepare: freshDir(out('cookiecutter/repo')),
    command: `${envPrefix} exec cookiecutter --no-input -f -o ${q(out('cookiecutter/repo'))} ${q(template)}`,
    needs: 'cookiecutter',
  },
  {
    id: 'yoArpypi',
    name: 'yo arpypi --yes (full repo)',
    dir: out('yo-arpypi/repo'),
    prepare: freshDir(out('yo-arpypi/repo'), yoUid),
    command: `cd ${q(out('yo-arpypi/repo'))} && ${envPrefix} ${nodePath('arpypi')} exec ${node} ${q(YO)} arpypi ${flags} < /dev/null`,
  },
  {
    id: 'yoHello',
    name: 'yo hello (1 file)',
    dir: out('yo-hello/repo'),
    prepare: freshDir(out('yo-hello/repo'), yoUid),
    command: `cd ${q(out('yo-hello/repo'))} && ${envPrefix} ${nodePath('hello')} exec ${node} ${q(YO)} hello < /dev/null`,
  },
  {
    id: 'fn1',
    name: 'arpypi function (1st)',
    dir: out('fn1/repo'),
    prepare: `rm -rf ${q(out('fn1/repo'))} && mkdir -p ${q(out('fn1'))} && cp -a ${q(noFunctions)} ${q(out('fn1/repo'))}`,
    command: `cd ${q(out('fn1/repo'))} && exec ${node} ${q(BIN)} function fn-new --yes`,
  },
  {
    id: 'fn50',
    name: 'arpypi function (50th)',
    dir: out('fn50/repo'),
    prepare: `rm -rf ${q(out('fn50/repo'))} && mkdir -p ${q(out('fn50'))} && cp -a ${q(fortyNine)} ${q(out('fn50/repo'))}`,
    command: `cd ${q(out('fn50/repo'))} && exec ${node} ${q(BIN)} function fn-new --yes`,
  },
].filter((b) => !b.needs || have(b.needs) || (console.error(`bench: ${b.needs} not found; skipping ${b.name}.`), false));

const sh = (script) => spawnSync('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });

// One run of each first: it must work, and its output is checked against the reference.
for (const bench of BENCHES) {
  sh(bench.prepare);
  const r = sh(bench.command);
  if (r.status !== 0) fail(`${bench.name} failed (exit ${r.status}):\n${r.stderr}`);
}
const checks = [
  ['arpypi', out('arpypi/repo')],
  ['yo arpypi', out('yo-arpypi/repo')],
  ['cookiecutter', path.join(out('cookiecutter/repo'), ANSWERS.githubRepo)],
].filter(([, dir]) => existsSync(dir));

// ---------------------------------------------------------------------------
// Timing.

const useHyperfine = !opts['no-hyperfine'] && have('hyperfine');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = {};
if (useHyperfine) {
  // In rounds, each a short hyperfine run per command: a busy spell of the machine
  // then weighs on every command, not on whichever ran during it.
  const perRound = Math.ceil(RUNS / ROUNDS);
  const times = Object.fromEntries(BENCHES.map((b) => [b.id, []]));
  const cpu = Object.fromEntries(BENCHES.map((b) => [b.id, 0]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const bench of BENCHES) {
      const json = at(`hyperfine-${bench.id}.json`);
      const r = spawnSync(
        'hyperfine',
        [
          '--shell=none', '--style', 'none', '--runs', String(perRound), '--warmup', String(round === 0 ? WARMUP : 0),
          '--prepare', `sh -c ${q(bench.prepare)}`, '--export-json', json, '-n', bench.name, `sh -c ${q(bench.command)}`,
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      if (r.status !== 0) fail(`hyperfine failed on ${bench.name}`);
      const [result] = JSON.parse(readFileSync(json, 'utf8')).results;
      times[bench.id].push(...result.times);
      cpu[bench.id] += (result.user + result.system) * result.times.length;
    }
  }
  for (const bench of BENCHES) {
    const t = times[bench.id];
    results[bench.id] = { median: median(t), min: Math.min(...t), max: Math.max(...t), cpu: cpu[bench.id] / t.length };
  }
} else {
  // Round-robin, so that a busy moment of the machine weighs on every command alike.
  const times = Object.fromEntries(BENCHES.map((b) => [b.id, []]));
  for (let round = -WARMUP; round < RUNS; round++) {
    for (const bench of BENCHES) {
      sh(bench.prepare);
      const start = process.hrtime.bigint();
      const r = sh(bench.command);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (r.status !== 0) fail(`${bench.name} failed: ${r.stderr}`);
      if (round >= 0) times[bench.id].push(seconds);
    }
  }
  for (const bench of BENCHES) {
    const t = times[bench.id];
    results[bench.id] = { median: median(t), min: Math.min(...t), max: Math.max(...t) };
  }
}

// Peak RSS of the bin generating the full repository: /usr/bin/time when there, else
// the process's own getrusage, read at exit through a preloaded module.
function peakRssMiB() {
  const arpypi = BENCHES.find((b) => b.id === 'arpypi');
  const samples = [];
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  for (let i = 0; i < 5; i++) {
    sh(arpypi.prepare);
    if (timeBin) {
      const r = spawnSync('sh', ['-c', `cd ${q(arpypi.dir)} && ${timeBin} -f 'maxrss=%M' ${node} ${q(BIN)} ${flags}`], { encoding: 'utf8' });
      const m = /maxrss=(\d+)/.exec(r.stderr);
      if (m) samples.push(Number(m[1]) / 1024);
    } else {
      const hook = 'data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss="+process.resourceUsage().maxRSS))';
      const r = spawnSync(process.execPath, ['--import', hook, BIN, ...appFlags], { cwd: arpypi.dir, encoding: 'utf8' });
      const m = /maxrss=(\d+)/.exec(r.stderr);
      if (m) samples.push(Number(m[1]) / 1024);
    }
  }
  return samples.length ? { peak: Math.max(...samples), median: median(samples), how: timeBin ? '/usr/bin/time' : 'getrusage' } : undefined;
}
const rss = peakRssMiB();

// ---------------------------------------------------------------------------
// Report.

const ms = (s) => `${(s * 1000).toFixed(0)} ms`;
console.log(`\narpypi start-up benchmark: node ${process.version}, ${os.cpus().length} CPU(s), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${useHyperfine ? `hyperfine in ${ROUNDS} rounds` : 'own loop, round-robin'}, ${useHyperfine ? Math.ceil(RUNS / ROUNDS) * ROUNDS : RUNS} runs and ${WARMUP} warm-up(s) each; bin ${bundled ? 'bundled (bin/bundle.mjs)' : 'NOT bundled: tsc output only (run npm run build for the shipped bin)'}\n`);
const nameWidth = Math.max(...BENCHES.map((b) => b.name.length));
console.log(`${'command'.padEnd(nameWidth)}  ${'median'.padStart(8)}  ${'min'.padStart(8)}  ${'max'.padStart(8)}${useHyperfine ? `  ${'cpu'.padStart(8)}` : ''}`);
for (const bench of BENCHES) {
  const r = results[bench.id];
  console.log(
    `${bench.name.padEnd(nameWidth)}  ${ms(r.median).padStart(8)}  ${ms(r.min).padStart(8)}  ${ms(r.max).padStart(8)}${useHyperfine ? `  ${ms(r.cpu).padStart(8)}` : ''}`,
  );
}
if (useHyperfine) console.log('(cpu: mean user + system time, as hyperfine reports it)');

const ratio = (a, b) => (results[a] && results[b] ? results[a].median / results[b].median : undefined);
const rows = [
  ['arpypi / cookiecutter', ratio('arpypi', 'cookiecutter'), 0.8],
  ['arpypi / node', ratio('arpypi', 'node'), 2],
  ['re-run / first run', ratio('rerun', 'arpypi'), 1.2],
  ['region, 3 merged / first', ratio('region3', 'arpypi'), 1.2],
  ['yo arpypi / yo hello', ratio('yoArpypi', 'yoHello'), 1.25],
  ['50th / 1st function', ratio('fn50', 'fn1'), 1.2],
];
console.log('\nratio of medians          value   target');
for (const [label, value, target] of rows) {
  if (value === undefined) continue;
  console.log(`${label.padEnd(24)} ${value.toFixed(2).padStart(6)}x  <= ${target}x  ${value <= target ? 'met' : 'MISSED'}`);
}
if (rss) {
  console.log(`${'arpypi peak RSS'.padEnd(24)} ${rss.peak.toFixed(1).padStart(6)} MiB  <= 80 MiB  ${rss.peak <= 80 ? 'met' : 'MISSED'}  (${rss.how}, peak of 5 runs; median ${rss.median.toFixed(1)} MiB)`);
}

console.log('\nsame output as the reference repository (bytes and executable bits):');
for (const [label, dir] of checks) {
  const problem = sameTree(reference, dir, label === 'cookiecutter' ? (f) => f.startsWith('.arpypi/') : undefined);
  // Folder names differ (the GitHub repo defaults to it), but every answer is a flag here.
  console.log(`  ${label.padEnd(13)} ${problem ? `NO: ${problem}` : 'yes'}`);
}

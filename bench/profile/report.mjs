#!/usr/bin/env node
// The profile's report (Markdown) from a run folder written by suite.mjs:
//   calls.tsv     one line per program run (wrap.pl): id, parent, test file, outside, via,
//                 start, wall, user, sys (s), max RSS (kB), exit, uid, command line
//   files.jsonl   each test file's vitest worker: start, end, exit, with its own CPU and its children's
//   vitest.json   vitest's JSON report (each file's duration)
//   *.time.txt    /usr/bin/time -v of `npm test`; *.load.tsv the load average every 5 s
//
//   node bench/profile/report.mjs DIR     writes DIR/report.md and prints it
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const base = (word) => word.split('/').pop();
const sum = (values) => values.reduce((a, b) => a + b, 0);
const f1 = (n) => n.toFixed(1);
const pct = (part, whole) => (whole > 0 ? `${Math.round((100 * part) / whole)} %` : '');
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** What kind of call a command line is: the program, and for interpreters the script or module. */
export function classify(argv) {
  const words = argv.split(' ').filter(Boolean);
  const program = base(words[0] ?? '');
  const rest = words.slice(1);
  const operand = () => rest.find((w) => !w.startsWith('-'));
  if (/^python[0-9.]*$/.test(program)) {
    for (let i = 0; i < rest.length; i += 1) {
      if (rest[i] === '-m') return `python -m ${rest[i + 1]}`;
      if (rest[i] === '-c') return 'python -c';
      if (!rest[i].startsWith('-')) {
        const script = base(rest[i]);
        return ['google_apis.py', 'pypi_index.py'].includes(script) ? `stand-in ${script}` : `python ${script}`;
      }
    }
    return 'python';
  }
  if (program === 'node') {
    const script = operand() ?? '';
    if (script.endsWith('yo/lib/cli.js')) return 'yo';
    if (script.endsWith('dist/bin/arpypi.js')) return 'arpypi (bin)';
    if (base(script) === 'vitest' || script.endsWith('vitest.mjs')) return 'vitest (main process)';
    if (base(script) === 'tsc') return 'build: tsc';
    if (script.endsWith('bin/bundle.mjs')) return 'build: bundle';
    if (base(script) === 'npm' || base(script) === 'npm-cli.js') return classify(`npm ${rest.slice(rest.indexOf(script) + 1).join(' ')}`);
    return script ? `node ${base(script)}` : `node ${rest[0] ?? ''}`.trim();
  }
  if (program === 'bash' || program === 'sh') {
    if (rest.includes('-c')) {
      const line = rest.slice(rest.indexOf('-c') + 1).join(' ');
      if (line.includes('yo/lib/cli.js')) return 'yo (in tmux)';
      if (line.includes('dist/bin/arpypi.js')) return 'arpypi (bin, in tmux)';
      return `${program} -c`;
    }
    return `${program} ${base(operand() ?? '')}`;
  }
  if (program === 'npm' || program === 'npx') return `${program} ${operand() ?? ''}`.trim();
  if (program === 'pip' || program === 'pip3') return `pip ${operand() ?? ''}`.trim();
  return program;
}

/** gcloud's command: its groups and command word, without flags and values. */
const VERB = /^(create|describe|list|delete|update|get-iam-policy|set-iam-policy|add-iam-policy-binding|remove-iam-policy-binding|import|export|deploy|write|enable|disable|publish|submit|print-access-token|list-files-for-upload|service-agent|get-value)$/;
function gcloudCommand(argv) {
  const out = [];
  for (const w of argv.split(' ').slice(1)) {
    if (w.startsWith('-') || out.length === 4) break;
    out.push(w);
    if (VERB.test(w)) break;
  }
  return `gcloud ${out.join(' ')}`;
}

function parseTime(file) {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const value = (label) => {
    const line = text.split('\n').find((l) => l.trim().startsWith(label)) ?? '';
    return line.slice(line.lastIndexOf(': ') + 2).trim();
  };
  const elapsed = (value('Elapsed (wall clock) time') ?? '0').split(':').map(Number).reduce((a, b) => a * 60 + b, 0);
  return { wall: elapsed, user: Number(value('User time')), sys: Number(value('System time')), maxrss: Number(value('Maximum resident set size')), exit: Number(value('Exit status')) };
}

export function writeReport(run) {
  const meta = JSON.parse(readFileSync(path.join(run, 'meta.json'), 'utf8'));
  const records = readFileSync(path.join(run, 'calls.tsv'), 'utf8').split('\n').filter(Boolean).map((line) => {
    const [id, parent, file, outside, via, start, wall, user, sys, maxrss, exit, uid, ...argv] = line.split('\t');
    const command = argv.join('\t');
    return { id, parent, file, outside: outside === '1', via, start: Number(start), wall: Number(wall), cpu: Number(user) + Number(sys), maxrss: Number(maxrss), exit, uid, argv: command, kind: classify(command) };
  });
  const byId = new Map(records.map((r) => [r.id, r]));
  const children = new Map();
  for (const r of records) if (byId.has(r.parent)) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  for (const r of records) r.self = Math.max(0, r.cpu - sum((children.get(r.id) ?? []).map((c) => c.cpu)));
  const root = (r) => (byId.has(r.parent) ? root(byId.get(r.parent)) : r);
  const descendants = (r) => (children.get(r.id) ?? []).flatMap((c) => [c, ...descendants(c)]);

  // Each file's worker: its CPU from the previous file's end in the same process (or its start) to this file's end.
  const events = readFileSync(path.join(run, 'files.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const files = new Map();
  const last = new Map();
  for (const e of events.sort((a, b) => a.at - b.at)) {
    const totals = { own: e.user + e.sys, kids: e.childUser + e.childSys };
    const before = last.get(e.pid) ?? { own: 0, kids: 0 };
    const entry = files.get(e.file) ?? { file: e.file, pid: e.pid, own: 0, kids: 0, start: Infinity, end: 0 };
    if (e.event === 'start') entry.start = Math.min(entry.start, e.at);
    else {
      entry.own += totals.own - before.own;
      entry.kids += totals.kids - before.kids;
      if (e.event === 'end') entry.end = e.at;
      last.set(e.pid, totals);
    }
    files.set(e.file, entry);
  }
  const vitest = existsSync(path.join(run, 'vitest.json')) ? JSON.parse(readFileSync(path.join(run, 'vitest.json'), 'utf8')) : { testResults: [] };
  for (const t of vitest.testResults) {
    const entry = [...files.values()].find((e) => t.name.endsWith(`/${e.file}`));
    if (entry) Object.assign(entry, { status: t.status, tests: t.assertionResults.length });
  }
  // vitest's duration of each file, as its default reporter prints it (the JSON report's times leave out the hooks before the first test).
  const log = existsSync(path.join(run, 'npm-test.log')) ? readFileSync(path.join(run, 'npm-test.log'), 'utf8').replace(/\x1b\[[0-9;]*m/g, '') : '';
  for (const m of log.matchAll(/^ +\S (test\/\S+\.test\.ts) \(\d+ tests?[^)]*\) +(\d+)ms$/gm)) {
    const entry = files.get(m[1]);
    if (entry) entry.vitestWall = Number(m[2]) / 1000;
  }
  const testRecords = records.filter((r) => r.file);
  for (const entry of files.values()) {
    const mine = testRecords.filter((r) => r.file === entry.file);
    entry.outside = sum(mine.filter((r) => r.outside).map((r) => r.cpu));
    entry.direct = sum(mine.filter((r) => r.parent === `worker:${entry.pid}`).map((r) => r.cpu));
    entry.calls = mine.length;
    entry.cpu = entry.own + entry.kids + entry.outside;
    const kinds = new Map();
    for (const r of mine) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + r.self);
    entry.top = [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${f1(v)}`).join(', ');
  }
  const fileList = [...files.values()].sort((a, b) => b.cpu - a.cpu);
  const filesCpu = sum(fileList.map((e) => e.cpu));
  const runStart = Math.min(...fileList.map((e) => e.start));

  const time = parseTime(path.join(run, 'npm-test.time.txt'));
  const plain = parseTime(path.join(run, 'npm-test-plain.time.txt'));
  const load = existsSync(path.join(run, 'npm-test.load.tsv')) ? readFileSync(path.join(run, 'npm-test.load.tsv'), 'utf8').split('\n').filter(Boolean).map((l) => Number(l.split('\t')[1])) : [];
  const harness = (kind) => records.filter((r) => !r.file && r.kind === kind);
  const build = sum([...harness('build: tsc'), ...harness('build: bundle')].map((r) => r.cpu));
  const main = harness('vitest (main process)')[0];
  const out = [];

  out.push(`# Test suite profile`, '');
  out.push(`Commit ${meta.commit.slice(0, 7)}${meta.dirty ? ' (with uncommitted changes)' : ''}, Node ${meta.node}, ${meta.cpus} CPUs` +
    `${meta.files.length ? `, files: ${meta.files.join(' ')}` : ', every test file'}; vitest's cache of earlier durations ${meta.vitestCache ? 'present' : 'absent (files start largest first)'}.`);
  out.push(`Load average (1 min) at the start ${meta.load.start[0]}, during the run mean ${f1(sum(load) / (load.length || 1))} and max ${f1(Math.max(0, ...load))}, at the end ${meta.load.end?.[0]}: ` +
    'wall times include waiting for other processes on the machine; CPU times do not, though they grow somewhat under load.', '');

  out.push('## Totals', '');
  const totalRows = [];
  if (time) totalRows.push(['`npm test`, profiled (shims and hook on)', f1(time.wall), f1(time.user), f1(time.sys), f1(time.user + time.sys), String(time.exit)]);
  if (plain) totalRows.push(['`npm test`, as it stands', f1(plain.wall), f1(plain.user), f1(plain.sys), f1(plain.user + plain.sys), String(plain.exit)]);
  out.push(table(['run', 'wall s', 'user s', 'sys s', 'CPU s', 'exit'], totalRows), '');
  const wrapperCost = records.length * meta.overhead.cpu;
  const outside = sum(fileList.map((e) => e.outside));
  out.push(`Of the profiled run's CPU: build (pretest: tsc and bundle) ${f1(build)} s; test files ${f1(filesCpu)} s (table below); ` +
    `vitest's main process ${main ? f1(main.cpu - sum(fileList.map((e) => e.own + e.kids))) : '?'} s (transforms, scheduling, reporters); ` +
    `the profile's own wrapper about ${f1(wrapperCost)} s (${records.length} calls at ${f1(meta.overhead.cpu * 1000)} ms, charged to whoever made each call)` +
    `${outside ? `; the files' tmux sessions ${f1(outside)} s, which run under the tmux server and are in neither total` : ''}.`, '');

  const lastFile = fileList.reduce((a, b) => (b.end > a.end ? b : a), fileList[0]);
  if (time && lastFile) {
    out.push(`On ${meta.cpus} cores the run's CPU alone takes at least ${f1((time.user + time.sys) / meta.cpus)} s of wall; ` +
      `the files ran from ${f1(runStart - meta.profiled.started)} s to ${f1(lastFile.end - meta.profiled.started)} s after \`npm test\` started, the last to end being ${lastFile.file}.`, '');
  }

  out.push('## Per test file', '');
  out.push('Wall: vitest\'s duration of the file in this run (its hooks and tests, not its import). Start and end: seconds after the first file started (its worker loading it, its last afterAll). ' +
    'CPU: the file\'s vitest worker (in-process work: yeoman-test runs of the generator, assertions) plus every program it started and waited for, ' +
    'plus programs it started outside itself (tmux sessions). Unlogged: children CPU the worker waited for that no logged call accounts for (wrapper overhead, spawns the hook missed).', '');
  out.push(table(['file', 'tests', 'wall s', 'start', 'end', 'CPU s', 'share', 'worker s', 'programs s', 'unlogged s', 'calls', 'most CPU (self s)'], fileList.map((e) => [
    e.file, String(e.tests ?? '?'), e.vitestWall !== undefined ? f1(e.vitestWall) : '?', f1(e.start - runStart), f1(e.end - runStart), f1(e.cpu), pct(e.cpu, filesCpu),
    f1(e.own), f1(e.kids + e.outside), f1(e.kids - e.direct), String(e.calls), e.top,
  ])), '');

  out.push('## Per kind of call', '');
  out.push('Every program run the test files started, nested ones included (a gcloud call inside setup-gcp.sh counts under gcloud). ' +
    'CPU incl: the program and everything it waited for; self: less its own logged calls, so that the self column adds up to the files\' CPU. ' +
    'Wall is summed over calls that may run side by side.', '');
  const kinds = new Map();
  for (const r of testRecords) {
    const k = kinds.get(r.kind) ?? { kind: r.kind, n: 0, wall: 0, cpu: 0, self: 0, files: new Map() };
    // A program that runs itself again (npm through `env node`) is one call of its kind.
    const again = byId.get(r.parent)?.kind === r.kind;
    if (!again) { k.n += 1; k.wall += r.wall; k.cpu += r.cpu; }
    k.self += r.self;
    k.files.set(r.file, (k.files.get(r.file) ?? 0) + r.self);
    kinds.set(r.kind, k);
  }
  kinds.set('vitest worker, in-process', { kind: 'vitest worker, in-process', n: fileList.length, wall: 0, cpu: sum(fileList.map((e) => e.own)), self: sum(fileList.map((e) => e.own)), files: new Map(fileList.map((e) => [e.file, e.own])) });
  const kindList = [...kinds.values()].sort((a, b) => b.self - a.self);
  out.push(table(['kind', 'calls', 'wall s', 'CPU incl s', 'CPU self s', 'share of files\' CPU', 'CPU self a call s', 'by file (self s)'], kindList.map((k) => [
    k.kind, String(k.n), k.wall ? f1(k.wall) : '', f1(k.cpu), f1(k.self), pct(k.self, filesCpu), (k.self / k.n).toFixed(2),
    [...k.files].sort((a, b) => b[1] - a[1]).filter(([, v]) => v >= 0.05).map(([file, v]) => `${path.basename(file, '.test.ts')} ${f1(v)}`).join(', '),
  ])), '');

  const gcloud = testRecords.filter((r) => r.kind === 'gcloud');
  if (gcloud.length) {
    out.push('## gcloud', '');
    out.push(`${gcloud.length} calls, ${f1(sum(gcloud.map((r) => r.cpu)))} s CPU, ${(sum(gcloud.map((r) => r.cpu)) / gcloud.length).toFixed(2)} s a call. By who made them (the outermost logged program), then by command:`, '');
    const group = (keyOf) => {
      const m = new Map();
      for (const r of gcloud) {
        const key = keyOf(r);
        const g = m.get(key) ?? { n: 0, cpu: 0, wall: 0 };
        g.n += 1; g.cpu += r.cpu; g.wall += r.wall;
        m.set(key, g);
      }
      return [...m].sort((a, b) => b[1].cpu - a[1].cpu).map(([key, g]) => [key, String(g.n), f1(g.cpu), (g.cpu / g.n).toFixed(2), (g.wall / g.n).toFixed(2)]);
    };
    out.push(table(['caller (file: program)', 'calls', 'CPU s', 'CPU a call s', 'wall a call s'], group((r) => `${path.basename(r.file, '.test.ts')}: ${root(r).kind}`)), '');
    const commands = group((r) => gcloudCommand(r.argv));
    const others = commands.slice(20);
    out.push(table(['command', 'calls', 'CPU s', 'CPU a call s', 'wall a call s'], [...commands.slice(0, 20),
      ...(others.length ? [[`${others.length} other commands`, String(sum(others.map((r) => Number(r[1])))), f1(sum(others.map((r) => Number(r[2])))), '', '']] : [])]), '');
  }

  const setups = testRecords.filter((r) => r.kind === 'bash setup-gcp.sh');
  if (setups.length) {
    out.push('## setup-gcp.sh runs', '');
    out.push(table(['file', 'arguments', 'exit', 'wall s', 'CPU s', 'gcloud calls', 'gcloud CPU s', 'other programs'], setups.map((r) => {
      const below = descendants(r);
      const g = below.filter((d) => d.kind === 'gcloud');
      const others = new Map();
      for (const d of below.filter((x) => x.kind !== 'gcloud')) others.set(d.kind, (others.get(d.kind) ?? 0) + 1);
      const args = r.argv.split(' ').slice(2).join(' ');
      return [path.basename(r.file, '.test.ts'), args ? `\`${args.slice(0, 60)}\`` : '(none)', r.exit, f1(r.wall), f1(r.cpu), String(g.length), f1(sum(g.map((d) => d.cpu))), [...others].map(([k, n]) => `${k} ×${n}`).join(', ')];
    })), '');
    const full = setups.filter((r) => r.argv.split(' ').length <= 2);
    out.push(`${setups.length} runs, ${f1(sum(setups.map((r) => r.cpu)))} s CPU; ${full.length} without arguments.`, '');
  }

  out.push('## Files side by side', '');
  out.push('When each file ran, and the files that ran beside it (vitest runs up to maxWorkers files at once on this machine\'s cores).', '');
  const timeline = [...fileList].sort((a, b) => a.start - b.start);
  out.push(table(['file', 'start', 'end', 'beside it'], timeline.map((e) => [
    e.file, f1(e.start - runStart), f1(e.end - runStart),
    timeline.filter((o) => o !== e && o.start < e.end && o.end > e.start).map((o) => path.basename(o.file, '.test.ts')).join(', '),
  ])), '');

  const report = out.join('\n');
  writeFileSync(path.join(run, 'report.md'), `${report}\n`);
  return report;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.argv[2]) {
    console.error('Usage: node bench/profile/report.mjs RUN_FOLDER (the folder bench/profile/suite.mjs printed)');
    process.exit(1);
  }
  console.log(writeReport(path.resolve(process.argv[2])));
}

#!/usr/bin/env node
// Where .ci/run's time goes: runs it once, as it stands, with a bash trace that stamps each of
// its own commands with the time and the CPU its shell's children have used so far (so each
// command's wall and CPU are differences), and with the profile's PATH shims, which log the
// npm, apt-get, git and node runs inside those commands. Writes ci-report.md into a run folder.
//
//   node bench/profile/ci.mjs [--out DIR]
//
// .ci/run does what it always does: apt-get, npm ci, the suite on Node 20 and 24, the stand-ins'
// tests, clean clones as root and as the user arpypi-ci (which it creates if missing).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { classify } from './report.mjs';
import { loadavg, makeRunOrExit } from './shims.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const { values: opts } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
if (opts.help) {
  console.log('Usage: node bench/profile/ci.mjs [--out DIR]');
  process.exit(0);
}
const made = makeRunOrExit(opts.out);
const { run } = made;
const f1 = (n) => n.toFixed(1);
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const trace = openSync(path.join(run, 'ci.trace'), 'w');
const log = openSync(path.join(run, 'ci.log'), 'w');
const load = [loadavg()];
const timer = setInterval(() => load.push(loadavg()), 5000);
// PS4 is set inside the script: bash ignores a PS4 from the environment when run as root.
const script = 'PS4=\'+ ${EPOCHREALTIME} $(cut -d" " -f16,17 /proc/$$/stat) \'; BASH_XTRACEFD=9; set -x; source .ci/run';
const status = await new Promise((resolve) => {
  const child = spawn('/usr/bin/time', ['-v', '-o', path.join(run, 'ci.time.txt'), 'bash', '-c', script, '.ci/run'], {
    cwd: ROOT, env: { ...process.env, PATH: made.path }, stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', trace],
  });
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => { process.stdout.write(d); writeFileSync(log, d); });
  child.on('close', resolve);
});
const ended = Date.now() / 1000;
clearInterval(timer);
closeSync(trace);
closeSync(log);

const timeText = readFileSync(path.join(run, 'ci.time.txt'), 'utf8');
const value = (label) => {
  const line = timeText.split('\n').find((l) => l.trim().startsWith(label)) ?? '';
  return line.slice(line.lastIndexOf(': ') + 2).trim();
};
const total = { wall: value('Elapsed').split(':').map(Number).reduce((a, b) => a * 60 + b, 0), cpu: Number(value('User time')) + Number(value('System time')) };

// The script's own commands (two +, under `source`; command substitutions have more), each until the next one.
const steps = readFileSync(path.join(run, 'ci.trace'), 'utf8').split('\n')
  .map((line) => /^\+\+ (\d+\.\d+) (\d+) (\d+) (.*)$/.exec(line))
  .filter(Boolean)
  .map((m) => ({ at: Number(m[1]), cpu: (Number(m[2]) + Number(m[3])) / 100, command: m[4] }));
const rows = steps.map((s, i) => {
  const next = steps[i + 1];
  return { command: s.command, wall: (next?.at ?? ended) - s.at, cpu: next ? next.cpu - s.cpu : Math.max(0, total.cpu - s.cpu) };
});
const big = rows.filter((r) => r.wall >= 1 || r.cpu >= 1);
const rest = rows.filter((r) => !big.includes(r));

const records = existsSync(path.join(run, 'calls.tsv')) ? readFileSync(path.join(run, 'calls.tsv'), 'utf8').split('\n').filter(Boolean).map((line) => {
  const [id, parent, , , , start, wall, user, sys, , exit, uid, ...argv] = line.split('\t');
  return { id, parent, start: Number(start), wall: Number(wall), cpu: Number(user) + Number(sys), exit, uid, argv: argv.join('\t'), kind: classify(argv.join('\t')) };
}) : [];
const ids = new Set(records.map((r) => r.id));
const depth = (r) => (ids.has(r.parent) ? 1 + depth(records.find((p) => p.id === r.parent)) : 0);
// The programs .ci/run's commands started (nothing logged above them), and what npm exec started.
const inner = records.filter((r) => (depth(r) === 0 || records.find((p) => p.id === r.parent)?.kind === 'npm exec') && (r.wall >= 1 || r.cpu >= 1));

const out = [];
out.push('# .ci/run profile', '');
out.push(`Exit ${status}; wall ${f1(total.wall)} s, CPU ${f1(total.cpu)} s (/usr/bin/time -v). Load average (1 min): start ${load[0][0]}, ` +
  `mean ${f1(load.reduce((a, l) => a + l[0], 0) / load.length)}, max ${f1(Math.max(...load.map((l) => l[0])))}.`, '');
out.push('## Its commands', '');
out.push('Each command of .ci/run, from the trace: wall until the next one; CPU of the children the script waited for meanwhile (all they started).', '');
out.push(table(['command', 'wall s', 'CPU s'], [
  ...big.map((r) => [`\`${r.command.slice(0, 110).replaceAll('|', '\\|')}\``, f1(r.wall), f1(r.cpu)]),
  [`${rest.length} other commands`, f1(rest.reduce((a, r) => a + r.wall, 0)), f1(rest.reduce((a, r) => a + r.cpu, 0))],
]), '');
out.push('## Programs inside them', '');
out.push('Logged by the shims: the outermost run of each program (and what `npm exec` started), over 1 s of wall or CPU.', '');
out.push(table(['program', 'uid', 'exit', 'wall s', 'CPU s'], inner.map((r) => [`\`${r.argv.slice(0, 110).replaceAll('|', '\\|')}\``, r.uid, r.exit, f1(r.wall), f1(r.cpu)])), '');
const report = out.join('\n');
writeFileSync(path.join(run, 'ci-report.md'), `${report}\n`);
console.log(`\n${report}\nprofile: the report and the raw logs are in ${run}`);
process.exitCode = status === 0 ? 0 : 1;

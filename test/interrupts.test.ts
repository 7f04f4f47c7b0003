// A run cut off anywhere, and runs at once (issue 15, items 3 and 4). A preloaded module
// (support/signal-at.cjs) counts the file-system changes a run makes and delivers a signal
// before the Nth: SIGKILL (a crash: the next run puts back what was half-written, and says
// so), SIGINT and SIGTERM (handled between steps: the run ends before or after its commit).
// Either way the tree is wholly as before or wholly as after, with no temporary file.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWERS, arpypi, arpypiAsync, arpypiOk, cleanUp, editStore, folder, generated, read, stored, tree } from './support/bin.js';
import { madeByBin, yo, yoDir } from './support/yo.js';

afterAll(cleanUp);

const PRELOAD = path.join(import.meta.dirname, 'support/signal-at.cjs');
const REGION_CHANGE = ['--region', 'europe-west1', '--yes'];
const MARKER = /^(<{7}|\|{7}|>{7})( |$)|^={7}$/m;

/** A copy of `dir` in a new folder, for one try. */
function copyOf(dir: string): string {
  const { dir: copy } = folder('try');
  cpSync(dir, copy, { recursive: true });
  return copy;
}

/** What a run must never leave behind: its lock, its journal and staged files, temporary files. */
const leftovers = (files: Record<string, string>) => Object.keys(files).filter((f) => f === '.arpypi/lock' || f.startsWith('.arpypi/commit') || f.endsWith('.tmp'));

describe('3. a run cut off in the middle of a large commit (forty functions and a region change)', () => {
  let repo: string;
  let before: Record<string, string>;
  let after: Record<string, string>;
  let changes: number;

  beforeAll(() => {
    // Forty functions from one run: the stored answers name them all.
    ({ dir: repo } = generated(['--function', 'f00']));
    editStore(repo, (s) => {
      for (let i = 1; i < 40; i++) s.functions[`f${String(i).padStart(2, '0')}`] = { ...s.functions.f00, name: `f${String(i).padStart(2, '0')}` };
    });
    arpypiOk(repo, ['--yes']);
    before = tree(repo);
    const whole = copyOf(repo);
    const count = path.join(path.dirname(whole), 'count');
    arpypiOk(whole, REGION_CHANGE, { node: ['--require', PRELOAD], env: { ARPYPI_COUNT_TO: count } });
    after = tree(whole);
    changes = Number(readFileSync(count, 'utf8'));
    expect(Object.keys(after).filter((f) => after[f] !== before[f]).length).toBeGreaterThan(80);
  });

  it('SIGKILL at points from the lock to the clean-up: the next run puts back what was half-written, and says so', () => {
    const points = [...new Set([2, 5, Math.round(changes / 3), Math.round(changes / 2), Math.round((2 * changes) / 3), changes - 20, changes - 3, changes])];
    const seen = new Set<string>();
    for (const point of points) {
      const dir = copyOf(repo);
      const killed = arpypi(dir, REGION_CHANGE, { node: ['--require', PRELOAD], env: { ARPYPI_SIGNAL_AT: `${point}:SIGKILL` } });
      expect(killed.status, `change ${point}`).toBeNull();
      const journal = existsSync(path.join(dir, '.arpypi/commit'));
      const next = arpypiOk(dir, ['--yes']);
      if (journal) expect(next.stdout, `change ${point}`).toMatch(/^An earlier run /);
      const now = tree(dir);
      expect(leftovers(now), `change ${point}`).toEqual([]);
      const whole = JSON.stringify(now) === JSON.stringify(before) ? 'before' : JSON.stringify(now) === JSON.stringify(after) ? 'after' : 'mixed';
      expect(whole, `change ${point} of ${changes}`).not.toBe('mixed');
      seen.add(whole);
    }
    // The points reach both sides of the commit point.
    expect([...seen].sort()).toEqual(['after', 'before']);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ])('%s at points of the run ends it wholly before or wholly after its commit, at once, and says which', (signal, code) => {
    // Before the commit (at the lock) and in its middle: one of each.
    const ends = [2, Math.round(changes / 2)].map((point) => {
      const dir = copyOf(repo);
      const r = arpypi(dir, REGION_CHANGE, { node: ['--require', PRELOAD], env: { ARPYPI_SIGNAL_AT: `${point}:${signal}` } });
      expect(r.status, `change ${point}`).toBe(code);
      const now = tree(dir);
      expect(leftovers(now)).toEqual([]);
      if (JSON.stringify(now) === JSON.stringify(before)) {
        expect(r.stderr).toBe(`Stopped by ${signal}; this run changed no file.\n`);
        return 'before';
      }
      expect(now).toEqual(after);
      expect(r.stderr).toBe(`Stopped by ${signal}, after this run had written every change.\n`);
      return 'after';
    });
    expect(ends).toEqual(['before', 'after']);
  });

  it('Ctrl-C at the 60th rename (as the issue did it): nothing half-applied, no temporary file, and the next run finds every file as the run left it', () => {
    const dir = copyOf(repo);
    const r = arpypi(dir, REGION_CHANGE, { node: ['--require', PRELOAD], env: { ARPYPI_SIGNAL_AT: '60:SIGINT:renameSync' } });
    expect(r.status).toBe(130);
    const now = tree(dir);
    expect(leftovers(now)).toEqual([]);
    expect(now).toEqual(after);
    expect(arpypiOk(dir, ['--yes']).stdout).toContain('Nothing to change: every file is up to date.');
  });
});

// Each waits on child processes (the lock tests on a 5 s wait): side by side.
describe('4. one run at a time', () => {
  it.concurrent('two function runs started together, ten times: every function made and recorded, no conflict markers', async () => {
    const { dir } = generated();
    const names: string[] = ['hello'];
    for (let i = 0; i < 10; i++) {
      const pair = [`a${i}`, `b${i}`];
      names.push(...pair);
      const runs = await Promise.all(pair.map((name) => arpypiAsync(dir, ['function', name, '--yes'])));
      for (const r of runs) expect(r.status, r.stderr).toBe(0);
    }
    expect(Object.keys(stored(dir).functions).sort()).toEqual(names.sort());
    const files = tree(dir);
    for (const name of names) expect(files[`functions/${name}/main.py`], name).toBeDefined();
    for (const [file, text] of Object.entries(files)) expect(MARKER.test(text), file).toBe(false);
    expect(leftovers(files)).toEqual([]);
    expect(arpypiOk(dir, ['--yes']).stdout).toContain('Nothing to change: every file is up to date.');
  });

  it.concurrent('a run waits for a live run\'s lock, then is refused naming it and writes nothing; a dead run\'s lock is taken over', async () => {
    const { dir } = generated();
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const lock = { pid: holder.pid, host: hostname(), started: '2026-01-01T00:00:00Z', command: 'arpypi function zzz' };
      writeFileSync(path.join(dir, '.arpypi/lock'), JSON.stringify(lock));
      const before = tree(dir);
      const r = await arpypiAsync(dir, ['function', 'api', '--yes']);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `Another run is working in this repository (arpypi function zzz, pid ${holder.pid}, started 2026-01-01T00:00:00Z); wait for it to end, then run again (if it is no longer running, delete .arpypi/lock).\n`,
      );
      expect(tree(dir)).toEqual(before);
    } finally {
      holder.kill();
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    const taken = await arpypiAsync(dir, ['function', 'api', '--yes']);
    expect(taken.status, taken.stderr).toBe(0);
    expect(existsSync(path.join(dir, '.arpypi/lock'))).toBe(false);
    expect(Object.keys(stored(dir).functions).sort()).toEqual(['api', 'hello']);
  });

  it.concurrent('through yo: two runs at once lose no function, and a live run\'s lock is honoured', async () => {
    const dir = yoDir('at-once');
    madeByBin(dir, [...ANSWERS, '--yes']);
    const runs = await Promise.all(['aaa', 'bbb'].map((name) => yo(dir, ['arpypi:function', name, '--yes'])));
    for (const r of runs) expect(r.status, r.stderr).toBe(0);
    expect(Object.keys(stored(dir).functions).sort()).toEqual(['aaa', 'bbb']);
    for (const file of ['README.md', 'cloudbuild-pr.yaml', 'scripts/setup-gcp.sh']) expect(MARKER.test(read(dir, file)), file).toBe(false);

    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(dir, '.arpypi/lock'), JSON.stringify({ pid: holder.pid, host: hostname(), started: '2026-01-01T00:00:00Z', command: 'arpypi function zzz' }));
      const before = tree(dir);
      const refused = await yo(dir, ['arpypi:function', 'ccc', '--yes']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`Another run is working in this repository (arpypi function zzz, pid ${holder.pid}, started 2026-01-01T00:00:00Z)`);
      expect(tree(dir)).toEqual(before);
    } finally {
      holder.kill();
    }
  });
});

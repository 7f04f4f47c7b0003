// The core's merge decisions, in-process: a property test against `git merge-file`, the
// merge the generator's three-way merge imitates, on random edits of a base by the user
// and by the generator, with the user's file in LF and in CRLF; and the records each
// decision keeps (a file written from the render records it, a conflict keeps the old one).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashOf, holdsMarkers, mergeText, planWrites } from '../dist/generators/core/plan.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'arpypi-merge-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const VERSION = '9.9.9';
const LABELS = ['-L', 'yours', '-L', 'last generated', '-L', `generator-arpypi ${VERSION}`];

/** A small deterministic generator (a linear congruential one), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** One to three edits: a line removed, added or changed, from a small alphabet so that edits meet. */
function edited(lines: readonly string[], next: () => number): string[] {
  const out = [...lines];
  const edits = 1 + Math.floor(next() * 3);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * (out.length + 1));
    const kind = next();
    if (kind < 0.33 && out.length > 0) out.splice(Math.min(at, out.length - 1), 1);
    else if (kind < 0.66) out.splice(at, 0, `${'xyz'[Math.floor(next() * 3)]}${Math.floor(next() * 3)}`);
    else if (out.length > 0) out[Math.min(at, out.length - 1)] = `p${Math.floor(next() * 3)}`;
  }
  return out;
}

const text = (lines: readonly string[]) => lines.map((l) => `${l}\n`).join('');
const crlf = (s: string) => s.replaceAll('\n', '\r\n');

/** git merge-file's verdict (clean or not) and result, diff3 style, with the generator's labels. */
function gitMerge(ours: string, base: string, theirs: string): { clean: boolean; text: string } {
  writeFileSync(path.join(work, 'ours'), ours);
  writeFileSync(path.join(work, 'base'), base);
  writeFileSync(path.join(work, 'theirs'), theirs);
  const r = spawnSync('git', ['merge-file', '-p', '--diff3', ...LABELS, 'ours', 'base', 'theirs'], { cwd: work, encoding: 'utf8' });
  if (r.status === null || r.status < 0) throw new Error(`git merge-file failed: ${r.stderr}`);
  return { clean: r.status === 0, text: r.stdout };
}

/** The core's decision for one wiring file whose last render was `base`. */
function planned(disk: string, base: string, render: string) {
  const [file] = planWrites(
    [{ path: 'f.yaml', contents: render, executable: false, owner: 'wiring' }],
    () => disk,
    new Map([['f.yaml', hashOf(base)]]),
    () => new Map([['f.yaml', base]]),
    new Set(),
    false,
    VERSION,
  );
  return file;
}

describe('three-way merges, against git merge-file', () => {
  // git is asked once per case, for both tests.
  const cases = Array.from({ length: 200 }, (_, seed) => {
    const next = random(seed + 1);
    const base = Array.from({ length: 3 + Math.floor(next() * 8) }, (_, i) => `line ${i}`);
    const sides = { seed, base: text(base), ours: text(edited(base, next)), theirs: text(edited(base, next)) };
    let verdict: { clean: boolean; text: string } | undefined;
    return { ...sides, git: () => (verdict ??= gitMerge(sides.ours, sides.base, sides.theirs)) };
  });

  it('the same verdict and the same bytes, conflict markers included, for LF files', () => {
    let conflicts = 0;
    for (const { seed, base, ours, theirs, git: merged } of cases) {
      const git = merged();
      const ourMerge = mergeText(ours, base, theirs, VERSION);
      expect(ourMerge, `seed ${seed}`).toEqual(git);
      if (!git.clean) conflicts++;
    }
    // Both kinds are exercised.
    expect(conflicts).toBeGreaterThan(40);
    expect(conflicts).toBeLessThan(cases.length - 40);
  });

  it('a user\'s CRLF file merges as the same text, its CRLF kept, and only a file written from the render records it', () => {
    for (const { seed, base, ours, theirs, git: merged } of cases) {
      const git = merged();
      const file = planned(crlf(ours), base, theirs);
      expect(file.action === 'conflict', `seed ${seed}: ${file.action}`).toBe(!git.clean);
      // A user's file emptied of every line has no line ending left to keep: LF, as rendered.
      const endings = ours === '' ? (s: string) => s : crlf;
      expect(file.write ?? crlf(ours), `seed ${seed}`).toBe(endings(git.text));
      expect(file.record, `seed ${seed}`).toBe(git.clean ? hashOf(theirs) : hashOf(base));
      expect(file.base, `seed ${seed}`).toBe(git.clean ? theirs : base);
    }
  });
});

describe('conflict markers', () => {
  it.each([
    ['<<<<<<< yours', true], ['|||||||', true], ['||||||| last generated', true], ['=======', true], ['>>>>>>> generator-arpypi 1.0.0', true],
    ['========', false], ['<<<<<<<<', false], ['a =======', false], ['<<<<<<<yours', false],
  ])('%j alone on a line is a marker: %s', (line, marker) => {
    expect(holdsMarkers(`a: 1\n${line}\nb: 2\n`)).toBe(marker);
  });

  it('a CRLF file with one marker line left is unresolved, and keeps its record', () => {
    const file = planned(crlf('a: 1\n=======\nb: 2\n'), 'a: 1\nb: 2\n', 'a: 3\nb: 2\n');
    expect(file.action).toBe('unresolved');
    expect(file.write).toBeUndefined();
    expect(file.record).toBe(hashOf('a: 1\nb: 2\n'));
  });
});

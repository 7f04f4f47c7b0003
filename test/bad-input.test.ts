// The README's table of bad inputs, run row by row through the `arpypi` bin and, for a
// sample of rows, through the real `yo` (slower: about 2 s a run): each row's sentence,
// exit code 1, and no file written.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listFiles, read, ROOT } from './support/generate.js';
import { run } from './support/tools.js';
import { words, yo, yoCopy, yoDir } from './support/yo.js';

const BIN = path.join(ROOT, 'dist/bin/arpypi.js');
/** `yo arpypi ARGS` as the bin spells it: `arpypi ARGS`, `arpypi function NAME ARGS`. */
const binArgs = (command: string[]) => (command[0] === 'arpypi:function' ? ['function', ...command.slice(1)] : command.slice(1));
/** Rows also run through yo: the first of each generator, and each kind of rule (missing value, cross-option, trigger). */
const YO_SAMPLE = new Set([
  'yo arpypi --region mars1', 'yo arpypi --region us', 'yo arpypi --region us --function-region us',
  'yo arpypi --git-host gitlab --triggers github-app',
  'yo arpypi:function Hello', 'yo arpypi:function api --trigger queue:jobs', 'yo arpypi:function api --trigger topic:jobs --timeout 600s',
]);

const BASE: Record<string, string> = { '--project-id': 'acme-prod', '--github-owner': 'acme', '--package-name': 'acme-utils' };

/** The row's words, then each base flag the row does not give itself. */
function withBase(row: string[]): string[] {
  const rest = Object.entries(BASE).filter(([flag]) => !row.some((w) => w === flag || w.startsWith(`${flag}=`)));
  return [...row, ...rest.flat(), '--yes'];
}

function readmeRows(): { text: string; command: string[]; message: string }[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const table = readme.split('<!-- bad-inputs:start -->')[1].split('<!-- bad-inputs:end -->')[0];
  return table
    .split('\n')
    .map((line) => /^\| `(yo [^`]+)` \| `(.+)` \|$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ text: m[1], command: words(m[1]).slice(1), message: m[2] }));
}

const snapshot = (dir: string) => listFiles(dir).map((f) => [f, read(dir, f)]);
const rows = readmeRows();

describe('bad input, as the README table says', () => {
  let repo: string;
  beforeAll(async () => {
    repo = yoDir('bad-input-repo');
    const made = await yo(repo, withBase(['arpypi', '--function', 'hello']));
    expect(made.status, made.stdout + made.stderr).toBe(0);
  });

  it('the table has rows for both generators, and every row sampled through yo is in it', () => {
    expect(rows.filter((row) => YO_SAMPLE.has(row.text))).toHaveLength(YO_SAMPLE.size);
    expect(rows.filter((r) => r.command[0] === 'arpypi').length).toBeGreaterThanOrEqual(15);
    expect(rows.filter((r) => r.command[0] === 'arpypi:function').length).toBeGreaterThanOrEqual(5);
  });

  it.each(rows)('arpypi: $command.0 $command.1 $command.2 $command.3', ({ command, message }) => {
    const app = command[0] === 'arpypi';
    const dir = app ? yoDir('bad-input-bin') : repo;
    const before = snapshot(dir);
    const result = run(process.execPath, [BIN, ...binArgs(app ? withBase(command) : [...command, '--yes'])], { cwd: dir });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(message);
    expect(snapshot(dir)).toEqual(before);
  });

  // Each row is a separate yo process, in a folder of its own (a copy of the repository for
  // arpypi:function): a run holds the repository's lock while it checks, so runs side by side in
  // one repository would see each other's lock in their snapshots.
  it.concurrent.each(rows.filter((row) => YO_SAMPLE.has(row.text)))('yo: $command.0 $command.1 $command.2 $command.3', async ({ command, message }) => {
    const app = command[0] === 'arpypi';
    const dir = app ? yoDir('bad-input') : yoCopy(repo, 'bad-input-repo');
    const before = snapshot(dir);
    const result = await yo(dir, app ? withBase(command) : [...command, '--yes']);
    expect(result.status).toBe(1);
    expect(result.stderr.split('\n')).toContain(message);
    expect(snapshot(dir)).toEqual(before);
  });
});

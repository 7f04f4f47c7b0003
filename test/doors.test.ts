// Both doors, the bin and the real `yo`, take and refuse the same command lines with the
// same sentence, and show the same help: the words go to one parser in the core.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listFiles, read, ROOT } from './support/generate.js';
import { run } from './support/tools.js';
import { yo, yoDir } from './support/yo.js';

const BIN = path.join(ROOT, 'dist/bin/arpypi.js');
const BASE = ['--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', 'acme-utils', '--yes'];
const snapshot = (dir: string) => listFiles(dir).map((f) => [f, read(dir, f)]);

/** [what, command ('app' or 'function'), words after the command, the one sentence]; the first five are each kind once, which yo runs too. */
const CASES: [string, 'app' | 'function', string[], string][] = [
  ['an unknown flag, with the nearest one', 'app', ['--regin', 'us-east1', ...BASE], 'Unknown flag --regin (did you mean --region?); --help lists the flags.'],
  ['a string flag without a value', 'app', [...BASE, '--function'], '--function needs a value, as in --function VALUE.'],
  ['a switch given =false', 'function', ['api', '--allow-unauthenticated=false', '--yes'], '--allow-unauthenticated takes no value (it is a switch): write --allow-unauthenticated for yes, or --no-allow-unauthenticated (or nothing) for no.'],
  ['a repeated flag', 'app', ['--region', 'us-east1', '--region', 'europe-west1', ...BASE], '--region is given more than once; give it once.'],
  ['an extra positional argument', 'app', ['extra', ...BASE], 'Unexpected argument "extra": the repository command takes only flags (arpypi, or yo arpypi [options]); a function is added with arpypi function NAME, or yo arpypi:function NAME.'],
  ['an unknown function flag', 'function', ['api', '--memroy', '1Gi', '--yes'], 'Unknown flag --memroy (did you mean --memory?); --help lists the flags.'],
  ['a switch given =no', 'app', [...BASE, '--force=no'], '--force takes no value (it is a switch): write --force for yes, or --no-force (or nothing) for no.'],
  ['a second function name', 'function', ['api', 'web', '--yes'], 'The function command takes one NAME, and got 2: api web.'],
  ['a function flag given to the repository', 'app', [...BASE, '--memory', '1Gi'], '--memory is a flag of the function command (arpypi function NAME, or yo arpypi:function NAME), not of the repository command.'],
];

describe('the same command line through both doors', () => {
  let repo: string;
  let first: { status: number | null; stdout: string; stderr: string };
  beforeAll(async () => {
    repo = yoDir('doors-repo');
    first = await yo(repo, ['arpypi', ...BASE, '--function', 'hello']);
    expect(first.status, first.stdout + first.stderr).toBe(0);
  });

  it('a first run through yo ends with a summary and the next command, without Yeoman\'s chatter', () => {
    expect(first.stdout).toContain('    create functions/hello/main.py\n');
    expect(first.stdout).toMatch(/\nDone: created \d+ files\.\nNext: bash scripts\/setup-gcp\.sh --dry-run/);
    expect(first.stdout + first.stderr).not.toMatch(/package manager install|package\.json|force \.yo-rc\.json|conflict/);
  });

  it.each(CASES)('%s: the bin', (_what, command, words, sentence) => {
    const dir = command === 'app' ? yoDir('doors-bin') : repo;
    const before = snapshot(dir);
    const r = run(process.execPath, [BIN, ...(command === 'function' ? ['function'] : []), ...words], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`${sentence}\n`);
    expect(snapshot(dir)).toEqual(before);
  });

  // yo costs about 2 s of CPU a run: each kind of refusal once (the bin runs every case).
  it.concurrent.each(CASES.slice(0, 5))('%s: yo', async (_what, command, words, sentence) => {
    const dir = command === 'app' ? yoDir('doors-yo') : repo;
    const before = snapshot(dir);
    const r = await yo(dir, [command === 'function' ? 'arpypi:function' : 'arpypi', ...words]);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')).toContain(sentence);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a public function needs the switch itself; --allow-unauthenticated=false never makes one public', async () => {
    const r = await yo(repo, ['arpypi:function', 'api', '--allow-unauthenticated=false', '--yes']);
    expect(r.status).toBe(1);
    expect(read(repo, '.yo-rc.json')).not.toContain('"api"');
  });
});

describe('without a terminal, and --version', () => {
  it.concurrent('yo with no terminal and no --yes names what is missing, as the bin does, and writes nothing', async () => {
    const words = ['--project-id', 'acme-prod'];
    const viaBin = run(process.execPath, [BIN, ...words], { cwd: yoDir('no-terminal-bin'), stdio: ['ignore', 'pipe', 'pipe'] });
    expect(viaBin.status).toBe(1);
    expect(viaBin.stderr).toMatch(/^Missing --region, .*: there is no terminal to ask on;/);
    const dir = yoDir('no-terminal');
    const r = await yo(dir, ['arpypi', ...words]);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')).toContain(viaBin.stderr.trim());
    expect(listFiles(dir)).toEqual([]);
  });

  it.concurrent('yo arpypi --version and arpypi --version print the generator\'s version', async () => {
    const { version } = JSON.parse(read(ROOT, 'package.json'));
    const r = await yo(yoDir('version'), ['arpypi', '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toContain(version);
    expect(run(process.execPath, [BIN, '--version']).stdout).toBe(`${version}\n`);
  });
});

describe('help', () => {
  it.concurrent.each([
    ['arpypi', ['--region VALUE', '--project-id VALUE', '--dry-run', '[default: us-central1]']],
    ['arpypi:function', ['--memory VALUE', '--allow-unauthenticated', '--remove', '[default: 256Mi]']],
  ])('yo %s --help: the kebab-case flags with their defaults, exit 0, no error', async (generator, shown) => {
    const r = await yo(yoDir('help'), [generator as string, '--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stdout).toContain(`Usage: yo ${generator === 'arpypi' ? 'arpypi' : 'arpypi:function NAME'} [options]`);
    for (const text of shown as string[]) expect(r.stdout).toContain(text);
    expect(r.stdout).not.toMatch(/--[a-z]+[A-Z]/); // no camelCase flag
    // The same flags as the bin's help, in the same order.
    const viaBin = run(process.execPath, [BIN, ...(generator === 'arpypi' ? [] : ['function']), '--help']).stdout;
    const flags = (text: string) => [...text.matchAll(/^ +(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(flags(viaBin).length).toBeGreaterThan(7);
    expect(flags(r.stdout)).toEqual(flags(viaBin));
  });
});

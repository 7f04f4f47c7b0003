// The `arpypi` bin against the Yeoman generators it stands in for: the same files,
// byte for byte, and the same .yo-rc.json for the same answers; bad input refused
// with one sentence and nothing written; an edited file kept on a re-run.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import helpers from 'yeoman-test';
import { APP_OPTIONS, FUNCTION_OPTIONS, RUN_OPTIONS } from '../dist/generators/core/options.js';
import { hashOf } from '../dist/generators/core/plan.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'dist/bin/arpypi.js');
const APP = path.join(ROOT, 'dist/generators/app/index.js');
const FUNCTION = path.join(ROOT, 'dist/generators/function/index.js');

const ANSWERS = {
  projectId: 'acme-prod-1',
  region: 'us-east4',
  functionRegion: 'us-central1',
  githubOwner: 'acme',
  packageName: 'Acme.Utils',
  pythonVersion: '3.13',
  auth: 'token',
};

// yeoman-test passes --force, to the generator and to its environment, unless told
// otherwise; yo and the bin do not.
const YO_DEFAULTS = { yes: true, force: false };
const yoRun = (generator: string) => helpers.run(generator, undefined, { force: false });

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const flagsOf = (options: Record<string, string | boolean>): string[] =>
  Object.entries(options).flatMap(([key, value]) => (value === true ? [`--${kebab(key)}`] : [`--${kebab(key)}`, String(value)]));

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty folder named `name`, so that defaults taken from the folder name agree. */
function folder(name = 'mono'): string {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'arpypi-bin-'));
  made.push(parent);
  const dir = path.join(parent, name);
  mkdirSync(dir);
  return dir;
}

function arpypi(cwd: string, args: readonly string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function arpypiOk(cwd: string, args: readonly string[]) {
  const r = arpypi(cwd, args);
  expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack
  expect(r.status, r.stderr).toBe(0);
  return r;
}

/** Every file below dir: its bytes and whether it is executable. */
function snapshot(dir: string, base = dir): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    if (stat.isDirectory()) Object.assign(files, snapshot(full, base));
    else files[path.relative(base, full)] = `${stat.mode & 0o111 ? 'x' : '-'} ${readFileSync(full, 'utf8')}`;
  }
  return files;
}

const BASES = '.arpypi/last-render.json.gz';
const stored = (dir: string) => JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'))['generator-arpypi'];

describe('arpypi and yo arpypi make the same repository', () => {
  it('for the same answers and a first function: every file, its mode, and .yo-rc.json', async () => {
    const viaBin = folder();
    arpypiOk(viaBin, [...flagsOf({ ...ANSWERS, function: 'hello' }), '--yes']);
    const viaYo = folder();
    await yoRun(APP).cd(viaYo).withOptions({ ...ANSWERS, function: 'hello', ...YO_DEFAULTS });

    const files = snapshot(viaBin);
    expect(Object.keys(files)).toContain('functions/hello/main.py');
    expect(files['scripts/prepare-requirements.sh'].startsWith('x ')).toBe(true);
    expect(files).toEqual(snapshot(viaYo));
    // Formatting included: what Yeoman's storage writes, 2 spaces and a final newline.
    expect(files['.yo-rc.json']).toMatch(/^- \{\n  "generator-arpypi": \{\n    "projectId"/);
    expect(files['.yo-rc.json'].endsWith('}\n')).toBe(true);
  });

  it('for arpypi function NAME and yo arpypi:function NAME on copies of one repository', async () => {
    const made = folder();
    arpypiOk(made, [...flagsOf(ANSWERS), '--yes']);
    const viaBin = folder();
    cpSync(made, viaBin, { recursive: true });
    const viaYo = folder();
    cpSync(made, viaYo, { recursive: true });

    const options = { memory: '512Mi', timeout: '120s', entryPoint: 'report', allowUnauthenticated: true };
    const r = arpypiOk(viaBin, ['function', 'billing-report', ...flagsOf(options)]);
    expect(r.stdout).toMatch(/create functions\/billing-report\/main\.py/);
    await yoRun(FUNCTION).cd(viaYo).withArguments(['billing-report']).withOptions({ ...options, ...YO_DEFAULTS });

    // The runtime follows the Python version (3.13 here): none is stored.
    expect(stored(viaBin).functions['billing-report']).toEqual({ name: 'billing-report', trigger: 'http', ...options });
    expect(snapshot(viaBin)).toEqual(snapshot(viaYo));
  });

  // The two tests above compare the bin's precompiled templates with yo's, compiled at run time.
  it("the bin holds every template precompiled, and compiles one whose source is not the bundle's again", () => {
    const bundle = readFileSync(BIN, 'utf8');
    const templates = readdirSync(path.join(ROOT, 'templates'), { recursive: true }).filter((f) => String(f).endsWith('.ejs'));
    expect(templates.length).toBeGreaterThan(30);
    for (const file of templates) expect(bundle, String(file)).toContain(JSON.stringify(String(file).split(path.sep).join('/')));
    // A copy of the package whose README template was edited after the bundle was made.
    const pkg = folder('package');
    for (const entry of ['package.json', 'dist', 'templates']) cpSync(path.join(ROOT, entry), path.join(pkg, entry), { recursive: true });
    const readme = path.join(pkg, 'templates/app/README.md.ejs');
    writeFileSync(readme, `${readFileSync(readme, 'utf8')}\nEdited after the bundle: <%- m.projectId %>\n`);
    const dir = folder();
    const r = spawnSync(process.execPath, [path.join(pkg, 'dist/bin/arpypi.js'), ...flagsOf(ANSWERS), '--yes'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(/\nEdited after the bundle: acme-prod-1\n$/);
  });
});

describe('arpypi function NAME', () => {
  it('adds the function and its trigger, names it where the repository lists functions, and records it', () => {
    const dir = folder();
    arpypiOk(dir, [...flagsOf(ANSWERS), '--yes']);
    const before = snapshot(dir);
    arpypiOk(dir, ['function', 'ingest']);
    const after = snapshot(dir);

    const added = Object.keys(after).filter((f) => !(f in before)).sort();
    expect(added).toEqual([
      'functions/ingest/.gcloudignore', 'functions/ingest/.gitignore', 'functions/ingest/cloudbuild.yaml',
      'functions/ingest/main.py', 'functions/ingest/requirements.in', 'functions/ingest/test_main.py',
      'triggers/fn-ingest.yaml',
    ]);
    const changed = Object.keys(before).filter((f) => before[f] !== after[f] && f !== BASES);
    expect(changed).toEqual(expect.arrayContaining(['.yo-rc.json', 'README.md']));
    for (const file of changed) expect(after[file], file).toContain('ingest');
    expect(Object.keys(stored(dir).functions)).toEqual(['ingest']);
  });

  it('refuses a function that exists already, and writes nothing', () => {
    const dir = folder();
    arpypiOk(dir, [...flagsOf({ ...ANSWERS, function: 'hello' }), '--yes']);
    const before = snapshot(dir);
    const r = arpypi(dir, ['function', 'hello']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('The function "hello" exists already (functions/hello); choose another name.\n');
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('bad input: exit 1, one sentence, nothing written', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown flag', ['--regoin', 'europe-west1', '--yes'], /^Unknown flag --regoin \(did you mean --region\?\);/],
    ['a bad value', ['--region', 'mars1', '--yes'], /^--region "mars1" is not an Artifact Registry location;/],
    ['a flag without its value', ['--region', '--yes'], /^--region needs a value/],
    ['a value given to a switch', ['--yes=no'], /^--yes takes no value/],
    ['a function flag given to the repository', ['--memory', '1Gi', '--yes'], /^--memory is a flag of the function command \(arpypi function NAME, or yo arpypi:function NAME\)/],
  ];
  it.each(cases)('%s, in an empty folder', (_what, args, message) => {
    const dir = folder();
    const { region: _given, ...others } = ANSWERS;
    const r = arpypi(dir, [...flagsOf(args.includes('--region') ? others : ANSWERS), ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an unknown flag of arpypi function, in a repository', () => {
    const dir = folder();
    arpypiOk(dir, [...flagsOf(ANSWERS), '--yes']);
    const before = snapshot(dir);
    const r = arpypi(dir, ['function', 'api', '--memroy', '1Gi']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('Unknown flag --memroy (did you mean --memory?); --help lists the flags.\n');
    expect(snapshot(dir)).toEqual(before);
  });

  it('values missing and no terminal to ask on: the flags are named', () => {
    const dir = folder();
    const r = arpypi(dir, ['--project-id', 'acme-prod-1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Missing --region, .*--github-owner, .*--package-name.*: there is no terminal to ask on;/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a repository that a newer generator wrote is refused, by both commands', () => {
    const dir = folder();
    arpypiOk(dir, [...flagsOf({ ...ANSWERS, function: 'hello' }), '--yes']);
    const yoRc = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'));
    yoRc['generator-arpypi'].version = '99.0.0';
    writeFileSync(path.join(dir, '.yo-rc.json'), `${JSON.stringify(yoRc, null, 2)}\n`);
    const before = snapshot(dir);

    for (const args of [['--region', 'europe-west1', '--yes'], ['function', 'api']]) {
      const r = arpypi(dir, args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^This repository was generated by generator-arpypi 99\.0\.0, newer than this one \(\d+\.\d+\.\d+\);/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('re-running with a new region after the user edited a file', () => {
  it('updates every other file that carries the region, merges the edit; --dry-run writes nothing', async () => {
    const dir = folder();
    arpypiOk(dir, [...flagsOf({ ...ANSWERS, function: 'hello' }), '--yes']);
    const generated = snapshot(dir);
    const carriers = Object.keys(generated).filter((f) => f !== '.yo-rc.json' && generated[f].includes('us-east4'));
    expect(carriers).toEqual(expect.arrayContaining(['package/cloudbuild.yaml', 'triggers/package.yaml', 'functions/hello/cloudbuild.yaml', 'README.md']));

    const edited = 'package/cloudbuild.yaml';
    const editedText = `${readFileSync(path.join(dir, edited), 'utf8')}# ours: keep the cache warm\n`;
    writeFileSync(path.join(dir, edited), editedText);
    // The same repository, for yo to re-run on.
    const viaYo = folder();
    cpSync(dir, viaYo, { recursive: true });
    const before = snapshot(dir);

    const dry = arpypiOk(dir, ['--region', 'europe-west1', '--yes', '--dry-run']);
    expect(snapshot(dir)).toEqual(before);
    expect(dry.stdout).toContain(`    merged ${edited}\n`);
    for (const file of carriers.filter((f) => f !== edited)) expect(dry.stdout).toContain(`    update ${file}\n`);
    expect(dry.stdout).toContain('    update .yo-rc.json\n');
    expect(dry.stdout).toContain('Dry run: nothing was written.');

    const run = arpypiOk(dir, ['--region', 'europe-west1', '--yes']);
    expect(run.stdout).toContain('merged 1 file with your edits');
    const after = snapshot(dir);
    const merged = readFileSync(path.join(dir, edited), 'utf8');
    expect(merged).toContain('# ours: keep the cache warm\n');
    expect(merged).not.toContain('us-east4');
    for (const file of carriers.filter((f) => f !== edited)) {
      expect(after[file], file).not.toContain('us-east4');
      expect(after[file], file).toContain('europe-west1');
    }
    const untouched = Object.keys(before).filter((f) => !carriers.includes(f) && f !== '.yo-rc.json' && f !== BASES);
    for (const file of untouched) expect(after[file], file).toBe(before[file]);
    expect(stored(dir).region).toBe('europe-west1');

    await yoRun(APP).cd(viaYo).withOptions({ region: 'europe-west1', ...YO_DEFAULTS });
    expect(after).toEqual(snapshot(viaYo));

    // The merged edit is the user's now: the next run has nothing to bring to it, and says so without calling it up to date.
    const again = arpypiOk(dir, ['--yes']);
    expect(again.stdout).toMatch(/\nNo file to write: \d+ files as generated, 1 file of yours as you have it\.\n/);
    expect(readFileSync(path.join(dir, edited), 'utf8')).toBe(merged);
    // --force brings every wiring file to the render, this one too.
    const forced = arpypiOk(dir, ['--yes', '--force']);
    expect(forced.stdout).toContain(`     force ${edited}\n`);
    expect(readFileSync(path.join(dir, edited), 'utf8')).toBe(readFileSync(path.join(viaYo, edited), 'utf8').replace('# ours: keep the cache warm\n', ''));
  });
});

describe('re-running with new answers', () => {
  it('gives the same repository as yo arpypi does, the function region following a region it only followed', async () => {
    const dir = folder();
    arpypiOk(dir, [...flagsOf({ ...ANSWERS, functionRegion: 'us-east4', function: 'hello' }), '--yes']);
    const viaYo = folder();
    cpSync(dir, viaYo, { recursive: true });

    arpypiOk(dir, ['--region', 'europe-west1', '--python-version', '3.12', '--auth', 'native', '--yes']);
    await yoRun(APP).cd(viaYo).withOptions({ region: 'europe-west1', pythonVersion: '3.12', auth: 'native', ...YO_DEFAULTS });
    expect(stored(dir)).toMatchObject({ region: 'europe-west1', functionRegion: 'europe-west1', pythonVersion: '3.12', auth: 'native' });
    expect(snapshot(dir)).toEqual(snapshot(viaYo));
  });
});

describe('.yo-rc.json entries for files the generator does not write', () => {
  it('are refused by both doors, naming the entry, and nothing is written', async () => {
    const dir = folder();
    arpypiOk(dir, [...flagsOf(ANSWERS), '--yes']);
    mkdirSync(path.join(dir, 'old'));
    writeFileSync(path.join(dir, 'old/gone.txt'), 'generated\n');
    const yoRc = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'));
    Object.assign(yoRc['generator-arpypi'].files, { 'old/gone.txt': hashOf('generated\n') });
    writeFileSync(path.join(dir, '.yo-rc.json'), `${JSON.stringify(yoRc, null, 2)}\n`);
    const before = snapshot(dir);
    const sentence = '"files" has the entry "old/gone.txt" in .yo-rc.json, which is not a file this generator writes for the answers stored there; remove the entry.';

    const r = arpypi(dir, ['--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`${sentence}\n`);
    expect(snapshot(dir)).toEqual(before);
    await expect(yoRun(APP).cd(dir).withOptions(YO_DEFAULTS)).rejects.toThrow(sentence);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('--help', () => {
  it('lists every flag with its description from the options table', () => {
    const app = arpypiOk(folder(), ['--help']).stdout;
    // The description as the table words it, less the default, which help shows apart.
    const described = (spec: { description: string }) => spec.description.replace(/ \(default: [^)]*\)|; default \w+$/, '');
    for (const spec of [...APP_OPTIONS, ...RUN_OPTIONS]) {
      expect(app).toContain(`--${spec.flag}`);
      expect(app).toContain(described(spec));
    }
    expect(app).toMatch(/--region VALUE +.*\[default: us-central1\]/);
    const fn = arpypiOk(folder(), ['function', '--help']).stdout;
    for (const spec of FUNCTION_OPTIONS) {
      expect(fn).toContain(`--${spec.flag}`);
      expect(fn).toContain(described(spec));
    }
    expect(fn).toMatch(/--memory VALUE +.*\[default: 256Mi\]/);
    expect(fn).toContain('--remove');
  });
});

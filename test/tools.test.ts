// Layer 3: the generated repository's own tools, run on it for each combination.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConfigs, COMBOS, functionNames, generate, listFiles, read, tempDir } from './support/generate.js';
import { gcloudParse, ok, requirePython, run, which } from './support/tools.js';
import { pipInstallProblems } from './support/substitutions.js';
import { pythonEnv } from './support/python.js';

/** Every combination's repository, for the checks that run once over all of them (ruff). */
const trees: string[] = [];

const BIN = path.resolve(import.meta.dirname, '../dist/bin/arpypi.js');

/** A repository made by the bin with `--index LAYOUT` (none: the default). */
function renderWithIndex(index: 'virtual' | 'private' | undefined): string {
  const out = tempDir(`index-${index ?? 'default'}`);
  ok(process.execPath, [BIN, '--project-id', 'acme-prod-1', '--github-owner', 'acme', '--package-name', 'Acme.Utils', '--function', 'hello', ...(index ? ['--index', index] : []), '--yes'], { cwd: out });
  return out;
}

/** A token with every character that breaks naive substitution: / & | \ */
const TOKEN = 'ya29.a0Af/b&c|d\\e+f=g';
const ENCODED = 'ya29.a0Af%2Fb%26c%7Cd%5Ce%2Bf%3Dg';

/** A stand-in gcloud that prints TOKEN for `auth print-access-token`. */
function stubGcloud(behaviour: 'token' | 'fail' = 'token'): string {
  const bin = tempDir('stub-gcloud');
  const script = behaviour === 'token'
    ? `#!/bin/sh\n[ "$1 $2" = "auth print-access-token" ] || exit 2\nprintf '%s\\n' '${TOKEN.replaceAll("'", "'\\''")}'\n`
    : '#!/bin/sh\necho "ERROR: (gcloud.auth.print-access-token) no credentials" >&2\nexit 1\n';
  writeFileSync(path.join(bin, 'gcloud'), script);
  chmodSync(path.join(bin, 'gcloud'), 0o755);
  return bin;
}

describe.each(COMBOS)('$name: generated repository checked by its own tools', (combo) => {
  let dir: string;
  const python = requirePython();
  const { projectId, region, repository, auth } = combo.options as Record<string, string>;
  const envFor = (bin: string) => ({ ...process.env, PATH: `${bin}:${process.env.PATH}`, PROJECT: projectId, REGION: region, REPO: `${repository}-index` });

  beforeAll(async () => {
    dir = await generate(combo);
    ok('git', ['init', '-q', dir]);
    trees.push(dir);
  });

  it('every cloudbuild.yaml and trigger passes gcloud\'s parser', () => {
    const files = listFiles(dir);
    const configs = buildConfigs(dir).map((f) => path.join(dir, f));
    const triggers = files.filter((f) => f.startsWith('triggers/')).map((f) => path.join(dir, f));
    expect(configs).toHaveLength(2 + functionNames(combo).length);
    expect(triggers).toHaveLength(2 + functionNames(combo).length);
    expect(gcloudParse('build', configs)).toEqual([]);
    expect(gcloudParse('trigger', triggers)).toEqual([]);
  });

  it('gcloud\'s parser rejects a config or trigger with a field it does not know', () => {
    const broken = tempDir('broken');
    writeFileSync(path.join(broken, 'cloudbuild.yaml'), `${read(dir, 'package/cloudbuild.yaml')}\ntimeoutt: 600s\n`);
    writeFileSync(path.join(broken, 'trigger.yaml'), read(dir, 'triggers/package.yaml').replace('filename:', 'filenam:'));
    expect(gcloudParse('build', [path.join(broken, 'cloudbuild.yaml')])).toHaveLength(1);
    expect(gcloudParse('trigger', [path.join(broken, 'trigger.yaml')])).toHaveLength(1);
  });

  it('one trusted index: grep -r -- --extra-index-url over the repository finds nothing', () => {
    const grep = run('grep', ['-rn', '--', '--extra-index-url', dir]);
    expect(grep.status, grep.stdout).toBe(1);
    expect(run('grep', ['-rln', '--', '--index-url', dir]).stdout).toMatch(/scripts\/prepare-requirements\.sh/);
  });

  it('every pip install in every build config uses constraints.txt, and it pins each tool installed by name', () => {
    const configs = buildConfigs(dir);
    for (const config of configs) expect(pipInstallProblems(path.join(dir, config), dir), config).toEqual([]);
    const installs = configs.flatMap((c) => read(dir, c).match(/\bpip, install\b/g) ?? []);
    // The tools of both pipelines; each function's own dependencies and the package built from source.
    expect(installs.length).toBe(2 + 2 * functionNames(combo).length);
  });

  it('every script passes shellcheck', () => {
    which('shellcheck');
    const scripts = listFiles(dir).filter((f) => f.endsWith('.sh'));
    expect(scripts).toEqual(['scripts/prepare-requirements.sh', 'scripts/setup-gcp.sh']);
    ok('shellcheck', ['--severity=style', ...scripts.map((f) => path.join(dir, f))]);
  });

  it('the package builds, passes twine check and its own tests', () => {
    which('twine');
    const out = tempDir('dist');
    const env = pythonEnv();
    ok(python, ['-m', 'build', '--no-isolation', '--outdir', out, '.'], { cwd: path.join(dir, 'package'), env });
    const dists = listFiles(out);
    expect(dists).toHaveLength(2);
    ok('twine', ['check', '--strict', ...dists.map((f) => path.join(out, f))], { env });
    // PEP 639 metadata, the type marker and the project's links, as the PyPA guide has them.
    const wheel = path.join(out, dists.find((f) => f.endsWith('.whl'))!);
    const members = (pattern: string) => ok(python, ['-c', 'import re, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print("\\n".join(n + "\\n" + z.read(n).decode() for n in z.namelist() if re.search(sys.argv[2], n)))', wheel, pattern]).stdout;
    const metadata = members('dist-info/METADATA$');
    expect(metadata).toMatch(/^Metadata-Version: 2\.4$/m);
    expect(metadata).toMatch(/^License-Expression: LicenseRef-Proprietary$/m);
    expect(metadata).toContain(`Author: ${combo.options.githubOwner}`);
    expect(metadata).toContain(`Project-URL: Repository, https://github.com/${combo.options.githubOwner}/${combo.options.githubRepo}`);
    expect(members('/py\\.typed$')).toMatch(/^[a-z_]+\/py\.typed$/m);
    const tests = ok(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: path.join(dir, 'package'), env });
    expect(tests.stdout).toMatch(/2 passed/);
  });

  it('each function\'s test passes against the package', () => {
    for (const name of functionNames(combo)) {
      // Run from the function's folder, as the pull-request checks do; the root's conftest.py and settings apply.
      const result = ok(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: path.join(dir, 'functions', name), env: pythonEnv() });
      expect(result.stdout, name).toMatch(/\b[235] passed/);
    }
  });

  it('prepare-requirements.sh renders exactly the expected line, prints no token, and the result is git-ignored but uploaded', () => {
    const name = functionNames(combo)[0];
    const fnDir = path.join(dir, 'functions', name);
    const result = ok('bash', ['../../scripts/prepare-requirements.sh'], { cwd: fnDir, env: envFor(stubGcloud()) });
    // One index, the virtual repository over the private one and PyPI: --index-url only.
    const host = `${region}-python.pkg.dev/${projectId}/${repository}-index/simple/`;
    const expected = auth === 'token'
      ? `--index-url https://oauth2accesstoken:${ENCODED}@${host}`
      : `--index-url https://${host}`;
    const lines = read(fnDir, 'requirements.txt').split('\n');
    expect(lines.filter((l) => l.startsWith('--'))).toEqual([expected]);
    expect(lines).toContain(`${combo.options.packageName}===0.1.0`);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    expect(result.stdout + result.stderr).not.toContain(ENCODED);
    expect(ok('git', ['check-ignore', 'requirements.txt'], { cwd: fnDir }).stdout.trim()).toBe('requirements.txt');
    expect(run('git', ['check-ignore', '-q', 'requirements.in'], { cwd: fnDir }).status).toBe(1);
    const upload = ok('gcloud', ['meta', 'list-files-for-upload', '.'], { cwd: fnDir }).stdout.split('\n').filter(Boolean).sort();
    expect(upload).toEqual(['main.py', 'requirements.txt']);
  });

  it('the pin follows __version__: bumping it moves every function\'s pin at the next render', () => {
    const initFile = listFiles(path.join(dir, 'package/src')).find((f) => f.endsWith('__init__.py'))!;
    const init = path.join(dir, 'package/src', initFile);
    const original = readFileSync(init, 'utf8');
    const pins = () => functionNames(combo).map((name) => {
      ok('bash', ['../../scripts/prepare-requirements.sh'], { cwd: path.join(dir, 'functions', name), env: envFor(stubGcloud()) });
      return read(dir, `functions/${name}/requirements.txt`).split('\n').filter((l) => l.startsWith(`${combo.options.packageName}==`));
    });
    try {
      expect(pins()).toEqual(functionNames(combo).map(() => [`${combo.options.packageName}===0.1.0`]));
      writeFileSync(init, original.replace('__version__ = "0.1.0"', '__version__ = "0.2.0rc1"'));
      expect(pins()).toEqual(functionNames(combo).map(() => [`${combo.options.packageName}===0.2.0rc1`]));
    } finally {
      writeFileSync(init, original);
    }
  });

  it('prepare-requirements.sh fails loudly and writes nothing on a missing value, a failed token, a bad version, an index line of its own or the old template', () => {
    const fnDir = tempDir('fn');
    mkdirSync(path.join(fnDir, 'scripts'));
    copyFileSync(path.join(dir, 'scripts/prepare-requirements.sh'), path.join(fnDir, 'scripts/p.sh'));
    copyFileSync(path.join(dir, 'scripts/release_tools.py'), path.join(fnDir, 'scripts/release_tools.py'));
    const work = path.join(fnDir, 'f');
    mkdirSync(work);
    const needs = read(dir, `functions/${functionNames(combo)[0]}/requirements.in`);
    writeFileSync(path.join(work, 'requirements.in'), needs);
    const runIt = (env: NodeJS.ProcessEnv) => run('bash', ['../scripts/p.sh'], { cwd: work, env });
    const versionFile = listFiles(path.join(dir, 'package/src')).find((f) => f.endsWith('__init__.py'))!;
    mkdirSync(path.join(fnDir, 'package/src', path.dirname(versionFile)), { recursive: true });
    const writeVersion = (line: string) => writeFileSync(path.join(fnDir, 'package/src', versionFile), `"""x"""\n${line}\n`);
    writeVersion('__version__ = "0.1.0"');

    const noProject = runIt({ ...envFor(stubGcloud()), PROJECT: '' });
    expect(noProject.status).not.toBe(0);
    expect(noProject.stderr).toContain('PROJECT is not set');

    const badToken = runIt({ ...envFor(stubGcloud('fail')), AUTH: 'token' });
    expect(badToken.status).not.toBe(0);
    expect(badToken.stderr).toContain('gcloud auth print-access-token failed');

    writeVersion('__version__ = "0.1"  # two parts are a version too');
    const shortVersion = runIt({ ...envFor(stubGcloud()), AUTH: 'native' });
    expect(shortVersion.status, shortVersion.stderr).toBe(0);
    rmSync(path.join(work, 'requirements.txt'));
    writeVersion('VERSION = "1.0.0"');
    const missingVersion = runIt({ ...envFor(stubGcloud()), AUTH: 'native' });
    expect(missingVersion.status).not.toBe(0);
    expect(missingVersion.stderr).toMatch(/__init__\.py sets no __version__; add __version__ = "0\.1\.0"/);
    writeVersion('__version__ = "1.0-beta"');
    const badVersion = runIt({ ...envFor(stubGcloud()), AUTH: 'native' });
    expect(badVersion.stderr).toContain('is "1.0-beta", which is not a PEP 440 version in normal form');
    writeVersion('__version__ = "0.1.0"');

    writeFileSync(path.join(work, 'requirements.in'), `--extra-index-url https://example.org/simple/\n${needs}`);
    const ownIndex = runIt({ ...envFor(stubGcloud()), AUTH: 'token' });
    expect(ownIndex.status).not.toBe(0);
    expect(ownIndex.stderr).toContain('requirements.in sets extra-index-url; the index is this script\'s to set');
    expect(ownIndex.stdout + ownIndex.stderr).not.toContain(ENCODED);
    writeFileSync(path.join(work, 'requirements.in'), needs);

    writeFileSync(path.join(work, 'requirements.txt.tmpl'), 'acme-extra==1.0\n');
    const oldLayout = runIt({ ...envFor(stubGcloud()), AUTH: 'native' });
    expect(oldLayout.status).not.toBe(0);
    expect(oldLayout.stderr).toContain('requirements.txt.tmpl is the older layout: move the lines you added there into requirements.in');
    expect(listFiles(work)).toEqual(['requirements.in', 'requirements.txt.tmpl']);
  });
});

describe('every combination at once', () => {
  it('ruff check and ruff format --check pass on every generated Python file of every combination (each tree\'s own settings)', () => {
    expect(trees).toHaveLength(COMBOS.length);
    const env = pythonEnv();
    const files = trees.flatMap((t) => listFiles(t).filter((f) => f.endsWith('.py')));
    const check = run(requirePython(), ['-m', 'ruff', 'check', ...trees], { env });
    expect(check.status, check.stdout).toBe(0);
    const format = run(requirePython(), ['-m', 'ruff', 'format', '--check', ...trees], { env });
    expect(format.stdout.trim(), format.stdout).toBe(`${files.length} files already formatted`);
  });

  it('the ruff check fails on a lint error and on a file the formatter would change', () => {
    const d = tempDir('ruff');
    writeFileSync(path.join(d, 'pyproject.toml'), read(trees[0], 'pyproject.toml'));
    writeFileSync(path.join(d, 'bad.py'), 'import os\nx=1\n');
    const env = pythonEnv();
    expect(run(requirePython(), ['-m', 'ruff', 'check', d], { env }).stdout).toContain('bad.py:1:8: F401');
    expect(run(requirePython(), ['-m', 'ruff', 'format', '--check', d], { env }).stdout).toContain(`Would reformat: ${path.join(d, 'bad.py')}`);
  });
});

describe('the tools themselves', () => {
  it('the index layout is virtual by default; --index private (opt-out) is the one place --extra-index-url appears', () => {
    for (const dir of [renderWithIndex(undefined), renderWithIndex('virtual')]) {
      expect(run('grep', ['-rln', '--', '--extra-index-url', dir]).status).toBe(1);
    }
    const optOut = renderWithIndex('private');
    const found = run('grep', ['-rl', '--', '--extra-index-url', optOut]).stdout.split('\n').filter(Boolean).map((f) => path.relative(optOut, f)).sort();
    expect(found).toEqual(['README.md', 'package/README.md', 'scripts/prepare-requirements.sh']);
    expect(read(optOut, 'README.md')).toContain('what it gives up');
  });

  it('the constraints check fails on a pip install without -c constraints.txt and on an unpinned tool', () => {
    const d = tempDir('constraints');
    writeFileSync(path.join(d, 'constraints.txt'), 'pytest==9.2.0\n');
    writeFileSync(path.join(d, 'cloudbuild.yaml'), JSON.stringify({ steps: [
      { id: 'a', name: 'python', args: ['-m', 'pip', 'install', 'pytest'] },
      { id: 'b', name: 'python', dir: 'sub', args: ['-m', 'pip', 'install', '-c', 'constraints.txt', 'pytest'] },
      { id: 'c', name: 'python', dir: 'sub', args: ['-m', 'pip', 'install', '-c', '../constraints.txt', 'pytest', 'twine'] },
    ] }));
    expect(pipInstallProblems(path.join(d, 'cloudbuild.yaml'), d)).toEqual([
      'cloudbuild.yaml step a: pip install without -c constraints.txt',
      'cloudbuild.yaml step b: pip install without -c constraints.txt',
      'cloudbuild.yaml step c: twine is not pinned in constraints.txt',
    ]);
  });

  it('shellcheck fails on a script with a quoting bug', () => {
    const d = tempDir('sc');
    writeFileSync(path.join(d, 'bad.sh'), '#!/usr/bin/env bash\nrm -rf $1/*\n');
    expect(run('shellcheck', [path.join(d, 'bad.sh')]).status).not.toBe(0);
  });

  it('the stand-in gcloud prints the token only when asked for one', () => {
    const bin = stubGcloud();
    expect(run(path.join(bin, 'gcloud'), ['auth', 'print-access-token']).stdout.trim()).toBe(TOKEN);
    expect(readFileSync(path.join(bin, 'gcloud'), 'utf8')).toContain('print-access-token');
  });
});

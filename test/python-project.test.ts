// The generated repository as a Python team uses it: the README's local-development
// section followed line by line (python -m pytest at the root, nox: ruff, mypy --strict,
// the tests, the build and twine check), each function run under functions-framework and
// called, reproducible wheels, the one version reader, and a hashed lock. One repository
// with every trigger kind, its tools run once. functions-framework is a stand-in here
// (test/standins/functions_framework), ruff its WebAssembly build, mypy Debian's 1.0.1.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runBuild } from './support/cloudbuild.js';
import type { BuildResult } from './support/cloudbuild.js';
import { listFiles, read, tempDir } from './support/generate.js';
import { pythonEnv, standinFrameworkWheel } from './support/python.js';
import { startStandin, STANDINS } from './support/standins.js';
import type { Standin } from './support/standins.js';
import { ok, PYTHON, run } from './support/tools.js';

const BIN = path.resolve(import.meta.dirname, '../dist/bin/arpypi.js');
const TOKEN = 'ya29.local-token';
/** The virtual repository of the index layout: the private repository first, the stand-in's PyPI behind it. */
const VIRTUAL = 'py-index';
/** Plays python in build steps: the step's PYTHONPATH first, then the test's tools (test/tools/python3-for-steps). */
const STEP_PYTHON = path.resolve(import.meta.dirname, 'tools/python3-for-steps');

/** A repository with an HTTP, a topic and a bucket function (one with its own entry point). */
function generateRepository(): string {
  const dir = tempDir('python-project');
  const arpypi = (...args: string[]) => ok(process.execPath, [BIN, ...args, '--yes'], { cwd: dir });
  arpypi('--project-id', 'acme-prod-1', '--github-owner', 'acme', '--package-name', 'Acme.Utils', '--python-version', '3.11', '--function', 'hello');
  arpypi('function', 'orders-sync', '--trigger', 'topic:orders');
  arpypi('function', 'uploads', '--trigger', 'bucket:acme-uploads', '--entry-point', 'on_upload');
  ok('git', ['init', '-q', dir]);
  return dir;
}

/** The lines of the README's fenced block between <!-- NAME:start --> and <!-- NAME:end -->, continuations joined. */
function readmeBlock(dir: string, name: string): string[] {
  const readme = read(dir, 'README.md');
  const block = readme.split(`<!-- ${name}:start -->`)[1]?.split(`<!-- ${name}:end -->`)[0];
  if (!block) throw new Error(`README.md has no ${name} block`);
  return block.replace(/^\s*```sh\n/, '').replace(/```\s*$/, '').replace(/\\\n\s*/g, '').split('\n').filter((l) => l.trim());
}

const wheelOf = (dist: string) => path.join(dist, readdirSync(dist).find((f) => f.endsWith('.whl'))!);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const pyFiles = (dir: string) => listFiles(dir).filter((f) => f.endsWith('.py') && !f.startsWith('.venv/'));

describe('a generated repository as a Python project', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let local: { status: number | null; stdout: string; stderr: string; replaced: string[] };

  beforeAll(() => {
    dir = generateRepository();
    env = { ...pythonEnv(), PIP_NO_INDEX: '1' };
    // The README's local-development section, each line as it is, in one shell; the lines
    // that install from PyPI are replaced: the test's PYTHONPATH has those tools (support/python.ts)
    // and the package's source plays its editable install.
    const replaced: string[] = [];
    const lines = readmeBlock(dir, 'local-development').map((line) => {
      if (!/^python -m pip install /.test(line)) return line;
      replaced.push(line);
      return `: replaced, PyPI unreachable: ${line.replace(/'/g, '')}`;
    });
    const script = ['set -e', ...lines].join('\n');
    const result = run('bash', ['-c', script], { cwd: dir, env: { ...env, PYTHONPATH: `${env.PYTHONPATH}:/usr/lib/python3/dist-packages:${path.join(dir, 'package/src')}` } });
    local = { ...result, replaced };
  }, 300_000);

  it('the local-development section runs line by line: python -m pytest at the root runs every test, nox runs lint, types, tests and build', () => {
    expect(local.replaced).toHaveLength(2);
    expect(local.status, local.stdout + local.stderr).toBe(0);
    // python -m pytest at the root: the package's 2, the scripts' and all three functions' (3 + 3 + 2).
    const counts = [...local.stdout.matchAll(/(\d+) passed/g)].map((m) => Number(m[1]));
    expect(counts.length).toBe(2);
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeGreaterThanOrEqual(2 + 20 + 8);
    for (const session of ['lint', 'types', 'tests', 'build']) expect(local.stderr).toContain(`Session ${session} was successful`);
  });

  it('ruff check, ruff format --check and mypy --strict cover every generated Python file', () => {
    const files = pyFiles(dir);
    expect(files.length).toBe(14);
    expect(local.stdout).toContain('All checks passed!');
    expect(local.stdout).toContain(`${files.length} files already formatted`);
    // mypy: one run over the package, scripts, conftest.py and noxfile.py, one per function.
    const checked = [...local.stdout.matchAll(/Success: no issues found in (\d+) source files/g)].map((m) => Number(m[1]));
    expect(checked.reduce((a, b) => a + b, 0)).toBe(files.length);
    expect(checked).toHaveLength(4);
  });

  it('each function runs under functions-framework and answers, HTTP and CloudEvent, as the README shows', () => {
    const port = String(18_000 + (process.pid % 2000));
    const lines = readmeBlock(dir, 'run-locally').map((l) => l.replace(/^export PORT=8080$/, `export PORT=${port}`));
    expect(lines[0]).toBe(`export PORT=${port}`);
    const result = run('bash', ['-c', lines.join('\n')], { cwd: dir, env: { ...env, PYTHONPATH: `${env.PYTHONPATH}:${path.join(dir, 'package/src')}` }, timeout: 60_000 });
    // HTTP answers the greeting; each CloudEvent answers OK (curl prints no newline) and the function prints its greeting.
    expect(result.stdout.match(/Hello, Ada!/g), result.stdout + result.stderr).toHaveLength(2);
    expect(result.stdout.match(/OK/g)).toHaveLength(2);
    expect(result.stdout).toContain('Hello, acme-uploads/hello.txt!');
  });

  describe('pull-request checks, run step by step with the stand-in index', () => {
    let index: Standin;
    let tokenFile: string;
    const show = (r: BuildResult) => r.steps.map((x) => `${x.id}: ${x.status}\n${x.stdout}${x.stderr}`).join('\n');
    const edit = (file: string, change: (text: string) => string) => {
      const before = read(dir, file);
      writeFileSync(path.join(dir, file), change(before));
      return () => writeFileSync(path.join(dir, file), before);
    };
    const pr = (): BuildResult => {
      // Each build starts from the commit: nothing of an earlier build's outputs.
      for (const d of ['package/dist', 'package/build', '.pr-deps']) rmSync(path.join(dir, d), { recursive: true, force: true });
      const trigger = parse(read(dir, 'triggers/pull-request.yaml'));
      return runBuild({
        workspace: dir,
        config: 'cloudbuild-pr.yaml',
        builtIns: { PROJECT_ID: 'acme-prod-1', PROJECT_NUMBER: '123456789012', BUILD_ID: `pr-${Date.now()}`, LOCATION: 'global' },
        substitutions: { ...trigger.substitutions, _PYPI_URL: index.url, _INDEX_URL: `${index.url}${VIRTUAL}/` },
        env: stepEnv,
        entrypoints: { python: STEP_PYTHON, python3: STEP_PYTHON },
        replacements: { 'install-tools': { reason: 'pip install from PyPI, which this machine cannot reach: Debian has pytest, mypy, nox, build and twine; test/support/python.ts adds setuptools >= 77, ruff and the keyring stand-in' } },
        logFile: path.join(tempDir('pr-log'), 'build.log'),
      });
    };
    const publish = (files: string[], url: string) => ok('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', url, '-u', 'oauth2accesstoken', '-p', TOKEN, ...files],
      { env: { ...pythonEnv(), PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' } });

    let stepEnv: NodeJS.ProcessEnv;
    beforeAll(async () => {
      const { PYTHONPATH, ...rest } = pythonEnv([path.join(STANDINS, 'keyring_backend')]);
      stepEnv = { ...rest, ARPYPI_TEST_PYTHONPATH: PYTHONPATH, ARPYPI_TEST_PYTHON: PYTHON, HOME: tempDir('pr-home'), PYTHON_KEYRING_BACKEND: 'ar_standin_keyring.StandinBackend' };
      index = await startStandin('pypi_index.py', ['--token', TOKEN, '--remote', 'py-pypi', '--virtual', `${VIRTUAL}=standard:100,py-pypi:10`]);
      tokenFile = path.join(tempDir('token'), 'token');
      writeFileSync(tokenFile, `${TOKEN}\n`);
      stepEnv.AR_STANDIN_TOKEN_FILE = tokenFile;
      // What every function's requirements.in pins is on the stand-in's PyPI already: the functions-framework stand-in
      // (pypi_index.py publishes it, as the build of a function needs it too).
    });
    afterAll(async () => {
      await index?.stop();
    });

    it('a clean pull request passes every check: lint, format, types, tests, build, twine check, the version check, and each function', () => {
      const result = pr();
      expect(result.steps.map((x) => [x.id, x.status]), show(result)).toEqual([
        'install-tools', 'build', 'check-dist', 'check-version-unpublished', 'lint', 'format', 'types', 'test-package', 'test-scripts',
        ...['hello', 'orders-sync', 'uploads'].flatMap((n) => [`requirements-${n}`, `install-${n}`, `install-package-${n}`, `types-${n}`, `test-${n}`]),
      ].map((id) => [id, 0]));
      expect(result.steps.find((x) => x.id === 'check-version-unpublished')!.stdout).toContain('not yet published');
      // Each function's tests ran with the framework and the package the pull request installed.
      expect(readdirSync(path.join(dir, '.pr-deps/orders-sync')).sort()).toEqual(expect.arrayContaining(['acme_utils', 'cloudevents', 'functions_framework']));
    });

    it('fails on a lint error', () => {
      const restore = edit('functions/hello/main.py', (t) => `import os\n${t}`);
      try {
        const result = pr();
        const last = result.steps.at(-1)!;
        expect([last.id, last.status], show(result)).toEqual(['lint', 1]);
        expect(last.stdout).toMatch(/functions\/hello\/main\.py:1:8: F401/);
      } finally {
        restore();
      }
    });

    it('fails on a twine check error', () => {
      // No readme: the package has no long description, which twine check --strict refuses.
      const restore = edit('package/pyproject.toml', (t) => t.replace('readme = "README.md"\n', ''));
      try {
        const result = pr();
        const last = result.steps.at(-1)!;
        expect([last.id, last.status], show(result)).toEqual(['check-dist', 1]);
        expect(last.stdout + last.stderr).toMatch(/long_description.* missing/);
      } finally {
        restore();
      }
    });

    it('fails on changed code without a version bump, as the release would after the merge', () => {
      // The merged main's release: 0.1.0 as the repository was generated.
      const released = tempDir('released');
      ok(PYTHON, ['-m', 'build', '--no-isolation', '--outdir', released, 'package'], { cwd: dir, env });
      publish(readdirSync(released).map((f) => path.join(released, f)), index.url);
      const restore = edit('package/src/acme_utils/__init__.py', (t) => `${t}\n\ndef farewell(name: str) -> str:\n    return f"Goodbye, {name}!"\n`);
      try {
        const result = pr();
        const last = result.steps.at(-1)!;
        expect([last.id, last.status], show(result)).toEqual(['check-version-unpublished', 1]);
        expect(last.stderr.trim()).toBe('check-version-unpublished: acme_utils-0.1.0-py3-none-any.whl, acme_utils-0.1.0.tar.gz is already published with other code; bump __version__ in package/src/acme_utils/__init__.py and release again (with a line in package/CHANGELOG.md)');
      } finally {
        restore();
      }
    });

    it('a hashed lock: the deploy\'s render pins every line by hash, the package\'s from the index\'s #sha256=, and pip installs it in hash-checking mode', () => {
      const fn = path.join(dir, 'functions/hello');
      const wheel = standinFrameworkWheel();
      writeFileSync(path.join(fn, 'requirements.lock'), `# pip-compile --generate-hashes --output-file=requirements.lock requirements.in\nfunctions-framework==3.10.2 \\\n    --hash=sha256:${sha256(wheel)}\n`);
      try {
        const env = { ...pythonEnv([path.join(STANDINS, 'keyring_backend')]), PYTHON_KEYRING_BACKEND: 'ar_standin_keyring.StandinBackend', AR_STANDIN_TOKEN_FILE: tokenFile,
          PROJECT: 'acme-prod-1', REGION: 'europe-west1', REPO: VIRTUAL, PYPI_URL: `${index.url}${VIRTUAL}/`, AUTH: 'native', RELEASE_POLL_SECONDS: '0.1' };
        ok('bash', ['../../scripts/prepare-requirements.sh'], { cwd: fn, env });
        const rendered = read(fn, 'requirements.txt');
        expect(rendered.split('\n').slice(0, 3)).toEqual([expect.stringContaining('from requirements.lock'), `--index-url ${index.url}${VIRTUAL}/simple/`, 'Acme.Utils===0.1.0']);
        expect(rendered).toContain(`functions-framework==3.10.2 \\\n    --hash=sha256:${sha256(wheel)}`);
        const waited = ok(PYTHON, ['../../scripts/wait-for-release.py', index.url, 'requirements.txt', '--timeout=5'], { cwd: fn, env });
        expect(waited.stdout).toContain('the pin is by the hash of each released file');
        const page = run('curl', ['-sf', '-u', `oauth2accesstoken:${TOKEN}`, `${index.url}simple/acme-utils/`]).stdout;
        const digests = [...page.matchAll(/#sha256=([0-9a-f]{64})/g)].map((m) => m[1]).sort();
        expect(digests).toHaveLength(2);
        expect(read(fn, 'requirements.txt').split('\n')).toContain(`Acme.Utils===0.1.0 ${digests.map((d) => `--hash=sha256:${d}`).join(' ')}`);
        const download = (file: string) => run(PYTHON, ['-m', 'pip', 'download', '--no-deps', '--require-hashes', '-d', tempDir('download'), '-r', file], { cwd: fn, env });
        const good = download('requirements.txt');
        expect(good.status, good.stdout + good.stderr).toBe(0);
        // A tampered hash is refused: the check is real.
        writeFileSync(path.join(fn, 'tampered.txt'), read(fn, 'requirements.txt').replace(digests[0], '0'.repeat(64)).replace(digests[1], '0'.repeat(64)));
        expect(download('tampered.txt').stderr).toContain('DO NOT MATCH THE HASHES');
      } finally {
        for (const f of ['requirements.lock', 'requirements.txt', 'tampered.txt']) rmSync(path.join(fn, f), { force: true });
      }
    });
  });

  it('python -m build twice gives the same wheel (SOURCE_DATE_EPOCH), which differs without it', () => {
    const epoch = String(parse(read(dir, 'package/cloudbuild.yaml')).steps.find((x: { id: string }) => x.id === 'build').env[0]).split('=')[1];
    const build = (extra: NodeJS.ProcessEnv) => {
      const out = tempDir('dist');
      // A later checkout: every file has a new time, and no build/ of an earlier build (setuptools would copy nothing new).
      rmSync(path.join(dir, 'package/build'), { recursive: true, force: true });
      for (const f of listFiles(path.join(dir, 'package/src'))) utimesSync(path.join(dir, 'package/src', f), new Date(), new Date(Date.now() - Math.random() * 1e9));
      ok(PYTHON, ['-m', 'build', '--no-isolation', '--wheel', '--outdir', out, 'package'], { cwd: dir, env: { ...env, ...extra } });
      return sha256(wheelOf(out));
    };
    expect(epoch).toBe('315532800');
    expect(build({ SOURCE_DATE_EPOCH: epoch })).toBe(build({ SOURCE_DATE_EPOCH: epoch }));
    expect(build({})).not.toBe(build({}));
  });

  it('the version: __version__: str = "0.2.0" is read, built and pinned as 0.2.0; 01.2.0 is refused with one sentence by the reader, the render, the wait and the package\'s test', () => {
    const init = 'package/src/acme_utils/__init__.py';
    const original = read(dir, init);
    const fnEnv = { ...env, PROJECT: 'acme-prod-1', REGION: 'europe-west1', REPO: 'x-index', AUTH: 'native' };
    const fn = path.join(dir, 'functions/hello');
    try {
      writeFileSync(path.join(dir, init), original.replace('__version__ = "0.1.0"', '__version__: str = "0.2.0"'));
      expect(ok(PYTHON, ['scripts/release_tools.py', 'version'], { cwd: dir, env }).stdout.trim()).toBe('0.2.0');
      ok('bash', ['../../scripts/prepare-requirements.sh'], { cwd: fn, env: fnEnv });
      expect(read(fn, 'requirements.txt').split('\n')).toContain('Acme.Utils===0.2.0');
      const out = tempDir('dist-020');
      ok(PYTHON, ['-m', 'build', '--no-isolation', '--wheel', '--outdir', out, 'package'], { cwd: dir, env });
      expect(path.basename(wheelOf(out))).toBe('acme_utils-0.2.0-py3-none-any.whl');

      writeFileSync(path.join(dir, init), original.replace('__version__ = "0.1.0"', '__version__ = "01.2.0"'));
      const sentence = `__version__ in ${path.join(dir, init)} is "01.2.0", which is not a PEP 440 version in normal form`;
      const reader = run(PYTHON, ['scripts/release_tools.py', 'version'], { cwd: dir, env });
      expect([reader.status, reader.stderr.split('\n').filter(Boolean)]).toEqual([1, [expect.stringContaining(`release_tools: ${sentence}`)]]);
      const render = run('bash', ['../../scripts/prepare-requirements.sh'], { cwd: fn, env: fnEnv });
      expect(render.status).toBe(1);
      expect(render.stderr).toContain(sentence);
      writeFileSync(path.join(fn, 'requirements.txt'), 'Acme.Utils===01.2.0\n');
      const wait = run(PYTHON, ['../../scripts/wait-for-release.py', 'http://127.0.0.1:9/', 'requirements.txt', '--timeout', '0'], { cwd: fn, env });
      expect(wait.stderr.trim()).toMatch(/^wait-for-release: the pin of acme-utils in requirements.txt is "01.2.0", which is not a PEP 440 version in normal form/);
      const tests = run(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'package'], { cwd: dir, env });
      expect(tests.stdout).toMatch(/1 failed, 1 passed/);
      // What setuptools would have published instead: another spelling.
      const out2 = tempDir('dist-0120');
      ok(PYTHON, ['-m', 'build', '--no-isolation', '--wheel', '--outdir', out2, 'package'], { cwd: dir, env });
      expect(path.basename(wheelOf(out2))).toBe('acme_utils-1.2.0-py3-none-any.whl');
    } finally {
      writeFileSync(path.join(dir, init), original);
      rmSync(path.join(fn, 'requirements.txt'), { force: true });
    }
  });
});

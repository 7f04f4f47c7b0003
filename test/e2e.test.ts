// The generated repository end to end: its own pipelines run on the host, with the
// real twine, pip and gcloud talking to loopback stand-ins for Artifact Registry and
// the Google APIs. The one seam is _PYPI_URL (PYPI_URL in scripts): the repository
// URL that every pipeline derives from region, project and repository, which a
// trigger, or this test, may override.
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveSubstitutions, runBuild, runBuildAsync } from './support/cloudbuild.js';
import type { BuildResult, BuildRun } from './support/cloudbuild.js';
import { generate, listFiles, read, tempDir } from './support/generate.js';
import type { Combo } from './support/generate.js';
import { startStandin, STANDINS } from './support/standins.js';
import type { Standin } from './support/standins.js';
import { ok, PYTHON, requirePython, run, which } from './support/tools.js';

/** What the stand-in gcloud prints as an access token: every character that breaks naive templating. */
const TOKEN = 'ya29.e2e/tok&en|with\\odd+chars=';
const ENCODED = encodeURIComponent(TOKEN).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** The build service account's credential, as Google's build gives it to pip (.netrc) and twine (keyring). */
const NATIVE = 'native-build-sa-credential';
const PROJECT = 'acme-e2e-1';
/** The repositories of the index layout, as setup-gcp.sh names them. */
const PRIVATE = 'py-e2e';
const REMOTE = 'py-e2e-pypi';
const VIRTUAL = 'py-e2e-index';
/** The package as PyPI names it (PEP 503). */
const PROJECT_NAME = 'acme-e2e-utils';
const PROJECT_NUMBER = '123456789012';

const INSTALL_TOOLS = {
  reason:
    'pip install from PyPI, which this machine cannot reach: Debian provides build, setuptools, wheel, twine and pytest, ' +
    'and the stand-in keyring backend (test/standins/keyring_backend) takes the place of keyrings.google-artifactregistry-auth',
};

function gcloudEnv(port: number, configDir: string): Record<string, string> {
  const out = ok(PYTHON, [path.join(STANDINS, 'gcloud_env.py'), '--port', String(port), '--project', PROJECT, '--config-dir', configDir]).stdout;
  return Object.fromEntries(
    [...out.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2].replace(/^'(.*)'$/, '$1')]),
  );
}

/** A gcloud that prints the test's token when asked for one and is the real gcloud otherwise. */
function gcloudWithToken(token: string): string {
  const bin = tempDir('gcloud-token');
  const real = which('gcloud');
  writeFileSync(
    path.join(bin, 'gcloud'),
    `#!/bin/sh\nif [ "$1 $2" = "auth print-access-token" ]; then cat "$ARPYPI_E2E_TOKEN_FILE"; echo; exit 0; fi\nexec ${real} "$@"\n`,
  );
  chmodSync(path.join(bin, 'gcloud'), 0o755);
  return bin;
}

const combo = (auth: 'token' | 'native'): Combo => ({
  name: `e2e ${auth}`,
  options: {
    projectId: PROJECT, region: 'europe-west1', repository: 'py-e2e', githubOwner: 'acme', githubRepo: 'mono',
    packageName: 'Acme.E2E-Utils', pythonVersion: '3.11', auth, function: 'hello',
  },
  // Event functions once, in native mode: their deploys differ in the trigger only. One runs
  // on Python 3.14, whose buildpack installs with uv unless told otherwise.
  more: auth === 'native'
    ? [{ name: 'orders-sync', options: { trigger: 'topic:orders', runtime: 'python314' } }, { name: 'uploads', options: { trigger: 'bucket:acme-uploads' } }]
    : [],
});

describe.each(['token', 'native'] as const)('%s mode, end to end', (auth) => {
  const python = requirePython();
  let repo: string;
  let index: Standin;
  let google: Standin;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let logDir: string;
  const printed: string[] = [];
  const tokenFile = path.join(tempDir('token'), 'token');
  const keyringFile = path.join(tempDir('keyring'), 'credential');

  /** A trigger's build: its substitutions, and the repository URLs pointed at the stand-in (the seam). */
  const buildRun = (config: string, trigger: string, extra: Partial<BuildRun> = {}): BuildRun => {
    const triggerFile = parse(read(repo, trigger));
    const declared = Object.keys(parse(read(repo, config)).substitutions ?? {});
    const seams = Object.fromEntries(Object.entries({ _PYPI_URL: index.url, _INDEX_URL: `${index.url}${VIRTUAL}/` }).filter(([k]) => declared.includes(k)));
    return {
      workspace: repo,
      config,
      builtIns: { PROJECT_ID: PROJECT, PROJECT_NUMBER, BUILD_ID: `b-${Date.now()}`, LOCATION: 'global', BRANCH_NAME: 'main' },
      substitutions: { ...triggerFile.substitutions, ...seams },
      env,
      entrypoints: { python, python3: python },
      replacements: { 'install-tools': INSTALL_TOOLS },
      logFile: path.join(logDir, `${path.basename(trigger, '.yaml')}-${Date.now()}.log`),
      ...extra,
    };
  };
  const build = (config: string, trigger: string, extra: Partial<BuildRun> = {}): BuildResult => {
    freshCheckout();
    const result = runBuild(buildRun(config, trigger, extra));
    for (const step of result.steps) printed.push(step.stdout, step.stderr);
    return result;
  };
  /** Files that reached the private repository (uploads to the stand-in's PyPI are not releases). */
  const uploads = () => index.requests().filter((r) => r.method === 'POST' && r.path === '/' && (r as { upload?: unknown }).upload && r.status === 200);
  /** What a build's checkout lacks: the previous builds' dist/ (Cloud Build starts each build from the commit). */
  const freshCheckout = () => {
    for (const d of ['package/dist', 'package/build']) rmSync(path.join(repo, d), { recursive: true, force: true });
  };
  const commit = (message: string) => {
    ok('git', ['-C', repo, 'add', '-A']);
    ok('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', message]);
  };
  /** The stand-in's record of each function build: installer, credentials, what it downloaded. */
  const functionBuilds = (from = 0) => google.requests().slice(from)
    .filter((r) => r.functionBuild)
    .map((r) => r.functionBuild as { installer: string; credentials: boolean; downloaded: string[]; status: number; output?: string });
  const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  /** Publishes NAME VERSION on the stand-in's public PyPI, as anyone may. */
  const publishOnPypi = (name: string, version: string) => {
    const out = tempDir('pypi-upload');
    ok(python, ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); from conftest import make_wheel; make_wheel(*sys.argv[2:])', STANDINS, out, name, version]);
    ok('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', `${index.url}pypi/`, '-u', 'oauth2accesstoken', '-p', NATIVE, ...readdirSync(out).filter((f) => f.endsWith('.whl')).map((f) => path.join(out, f))], { env: { ...env, PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' } });
  };

  beforeAll(async () => {
    repo = await generate(combo(auth));
    ok('git', ['init', '-q', repo]);
    ok('git', ['-C', repo, 'add', '-A']);
    ok('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'generated']);
    writeFileSync(tokenFile, TOKEN);
    writeFileSync(keyringFile, NATIVE);
    // The standard repository, a PyPI remote one and the virtual one over both, as setup-gcp.sh makes them.
    index = await startStandin('pypi_index.py', ['--token', TOKEN, '--token', NATIVE, '--remote', REMOTE, '--virtual', `${VIRTUAL}=standard:100,${REMOTE}:10`]);
    const googleData = tempDir('google-apis');
    // The bucket a bucket-triggered function listens to exists before the deploy, as it must in a real project.
    writeFileSync(path.join(googleData, 'state.json'), JSON.stringify({ buckets: { 'acme-uploads': { location: 'EUROPE-WEST1' } } }));
    // Function builds install requirements.txt; the buildpack's pip path hands them NATIVE (.netrc).
    google = await startStandin('google_apis.py', ['--function-builds', NATIVE], googleData);
    home = tempDir('home');
    logDir = tempDir('build-logs');
    const gcloudConfig = tempDir('gcloud-config');
    env = {
      ...process.env,
      ...gcloudEnv(google.port, gcloudConfig),
      HOME: home,
      PATH: `${gcloudWithToken(TOKEN)}:${process.env.PATH}`,
      ARPYPI_E2E_TOKEN_FILE: tokenFile,
      PYTHONPATH: path.join(STANDINS, 'keyring_backend'),
      PYTHON_KEYRING_BACKEND: 'ar_standin_keyring.StandinBackend',
      AR_STANDIN_TOKEN_FILE: keyringFile,
      PIP_CONFIG_FILE: '/dev/null',
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
      // How often a deploy asks whether its version is released (10 s in Cloud Build).
      RELEASE_POLL_SECONDS: '0.3',
    };
  });

  afterAll(async () => {
    await index?.stop();
    await google?.stop();
  });

  it('1. release: tests, builds, uploads with twine; a release of changed code without a bump stops before upload; a change of tests or docs alone passes', () => {
    const first = build('package/cloudbuild.yaml', 'triggers/package.yaml');
    expect(first.steps.map((s) => [s.id, s.status]), first.steps.map((s) => s.stderr).join('\n')).toEqual([
      ['install-tools', 0], ['test', 0], ['build', 0], ['check-dist', 0], ['check-version-unpublished', 0], ['upload', 0],
    ]);
    expect(first.substitutions._PYPI_URL).toBe(index.url);
    // Without the test's override, the same seams name the real repositories.
    for (const [config, trigger] of [['package/cloudbuild.yaml', 'triggers/package.yaml'], ['functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml']]) {
      const values = resolveSubstitutions(parse(read(repo, config)), { PROJECT_ID: PROJECT }, parse(read(repo, trigger)).substitutions);
      expect(values._PYPI_URL, config).toBe(`https://europe-west1-python.pkg.dev/${PROJECT}/${PRIVATE}/`);
      if (config.startsWith('functions/')) expect(values._INDEX_URL).toBe(`https://europe-west1-python.pkg.dev/${PROJECT}/${VIRTUAL}/`);
    }
    expect(uploads()).toHaveLength(2);
    const simple = run('curl', ['-sf', '-u', `oauth2accesstoken:${NATIVE}`, `${index.url}simple/${PROJECT_NAME}/`]);
    expect(simple.stdout).toMatch(/acme[._-]e2e[._-]utils-0\.1\.0-py3-none-any\.whl/i);

    // Dependency confusion from here on: a stranger publishes the package's name on PyPI,
    // a higher version and the same version. Every deploy and install below must still get ours.
    publishOnPypi('Acme.E2E-Utils', '9.9.9');
    publishOnPypi('Acme.E2E-Utils', '0.1.0');

    // What follows does not depend on the auth mode: once, in native mode.
    if (auth === 'token') return;
    // A push that touched only tests or docs (or a re-run): nothing new, no failure.
    const testFile = 'package/tests/test_acme_e2e_utils.py';
    writeFileSync(path.join(repo, testFile), `${read(repo, testFile)}\n\ndef test_added_later():\n    assert True\n`);
    appendFileSync(path.join(repo, 'package/README.md'), '\nMore words about the package.\n');
    commit('tests and docs only');
    const docs = build('package/cloudbuild.yaml', 'triggers/package.yaml');
    expect(docs.ok, docs.steps.map((s) => s.stdout + s.stderr).join('\n')).toBe(true);
    expect(docs.steps.find((s) => s.id === 'check-version-unpublished')!.stdout).toContain('is published with the same code; nothing new to release');
    expect(uploads()).toHaveLength(2);

    // Changed code under the published version: stopped before the upload, with what to do.
    const init = 'package/src/acme_e2e_utils/__init__.py';
    const source = read(repo, init);
    writeFileSync(path.join(repo, init), `${source}\n\ndef farewell(name: str) -> str:\n    return f"Goodbye, {name}!"\n`);
    const changed = build('package/cloudbuild.yaml', 'triggers/package.yaml');
    writeFileSync(path.join(repo, init), source);
    expect(changed.ok).toBe(false);
    const last = changed.steps.at(-1)!;
    expect(last.id).toBe('check-version-unpublished');
    expect(last.stderr).toContain('is already published with other code; bump __version__ in package/src/acme_e2e_utils/__init__.py and release again');
    expect(uploads()).toHaveLength(2);
  });

  it('2. deploy: renders requirements.txt (one index, the pinned version), waits for the release, deploys with the real gcloud; the build installs with pip', () => {
    const before = google.requests().length;
    const result = build('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml');
    expect(result.steps.map((s) => [s.id, s.status]), result.steps.map((s) => s.stdout + s.stderr).join('\n')).toEqual([
      ['prepare-requirements', 0], ['wait-for-release', 0], ['deploy', 0],
    ]);
    expect(result.steps[1].stdout).toContain(`${PROJECT_NAME}==0.1.0 is in ${PRIVATE} in europe-west1`);
    const rendered = read(repo, 'functions/hello/requirements.txt');
    const base = index.url.replace('http://', '');
    expect(rendered.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      auth === 'token' ? `--index-url http://oauth2accesstoken:${ENCODED}@${base}${VIRTUAL}/simple/` : `--index-url ${index.url}${VIRTUAL}/simple/`,
      'Acme.E2E-Utils==0.1.0',
    ]);
    const requests = google.requests();
    const puts = requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect((puts[0] as { upload?: { zipMembers?: string[] } }).upload?.zipMembers).toEqual(['main.py', 'requirements.txt']);
    const create = requests.find((r) => r.method === 'POST' && /\/locations\/europe-west1\/functions$/.test(r.path));
    expect(create, JSON.stringify(requests.map((r) => `${r.method} ${r.path}`))).toBeDefined();
    const body = create!.body as { buildConfig: { runtime: string; entryPoint: string; environmentVariables?: Record<string, string> }; eventTrigger?: unknown; serviceConfig: Record<string, unknown> };
    expect(create!.query).toMatchObject({ functionId: 'hello' });
    expect(body.buildConfig.runtime).toBe('python311');
    expect(body.buildConfig.entryPoint).toBe('handler');
    expect(body.buildConfig.environmentVariables).toEqual({ GOOGLE_PYTHON_PACKAGE_MANAGER: 'pip' });
    expect(body.eventTrigger).toBeUndefined();
    expect(body.serviceConfig).toMatchObject({ availableMemory: '256Mi', timeoutSeconds: 60 });
    // PyPI has a 9.9.9 and its own 0.1.0 of this name (test 1): the build downloaded our 0.1.0.
    const [fnBuild] = functionBuilds(before);
    expect(fnBuild).toMatchObject({ installer: 'pip', credentials: true, status: 0, downloaded: [expect.stringMatching(/^acme[._-]e2e[._-]utils-0\.1\.0-py3-none-any\.whl$/i)] });
    expect((fnBuild as { sha256?: Record<string, string> }).sha256?.[fnBuild.downloaded[0]]).toBe(sha256(path.join(index.dataDir, 'packages', fnBuild.downloaded[0])));
    // The generated README's way to find the deployed function answers with its URL.
    const describe = /\$\((gcloud functions describe hello [^\n]*?')\)/.exec(read(repo, 'README.md'))![1];
    const uri = ok('bash', ['-c', describe], { env }).stdout.trim();
    expect(uri).toMatch(/^https:\/\/hello-\d+\.europe-west1\.run\.app$/);
  });

  it('3. install: pip installs the package from the index with the rendered requirements, and the function\'s test passes against it', () => {
    const venv = path.join(tempDir('venv'), 'v');
    ok(python, ['-m', 'venv', '--system-site-packages', venv]);
    const pipHome = tempDir('pip-home');
    if (auth === 'native') writeFileSync(path.join(pipHome, '.netrc'), `machine 127.0.0.1 login oauth2accesstoken password ${NATIVE}\n`);
    const pipEnv = { ...env, HOME: pipHome, PYTHONPATH: '', PIP_RETRIES: '0', PIP_TIMEOUT: '5' };
    const install = run(path.join(venv, 'bin/pip'), ['install', '--no-cache-dir', '-r', 'requirements.txt'], { cwd: path.join(repo, 'functions/hello'), env: pipEnv });
    expect(install.status, install.stdout + install.stderr).toBe(0);
    expect(install.stdout).toMatch(/Successfully installed Acme[.-]E2E[-_]Utils-0\.1\.0/i);
    const test = run(path.join(venv, 'bin/python'), ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: path.join(repo, 'functions/hello'), env: pipEnv });
    expect(test.stdout).toMatch(/2 passed/);

    // A wrong credential is refused with a 401 and pip fails.
    const wrong = path.join(tempDir('wrong'), 'w');
    mkdirSync(wrong);
    const badRequirements = auth === 'token'
      ? rendered().replace(ENCODED, 'wrong-token')
      : rendered();
    writeFileSync(path.join(wrong, 'requirements.txt'), badRequirements);
    const wrongHome = tempDir('wrong-home');
    if (auth === 'native') writeFileSync(path.join(wrongHome, '.netrc'), 'machine 127.0.0.1 login oauth2accesstoken password wrong\n');
    const refused = run(path.join(venv, 'bin/pip'), ['install', '--no-cache-dir', '--force-reinstall', '-r', 'requirements.txt'], {
      cwd: wrong,
      env: { ...pipEnv, HOME: wrongHome },
    });
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/401/);
  });

  // Dependency confusion: the stranger's 9.9.9 and 0.1.0 are on PyPI since test 1; the deploy
  // of test 2 and the install of test 3 got the private 0.1.0 (they check the file).
  if (auth === 'native') it('one trusted index: a higher version, and the same version, of the package\'s name on PyPI do not reach the function', () => {
    // The virtual repository lists PyPI's 9.9.9 (priority decides per version, as Google's does),
    // and for 0.1.0, which both upstreams have, only the private repository's files.
    const page = run('curl', ['-sf', '-u', `oauth2accesstoken:${NATIVE}`, `${index.url}${VIRTUAL}/simple/${PROJECT_NAME}/`]).stdout;
    const listed = [...page.matchAll(/>([^<]+\.(?:whl|tar\.gz))</g)].map((m) => m[1]).sort();
    const privateFiles = readdirSync(path.join(index.dataDir, 'packages')).filter((f) => f.includes('0.1.0')).sort();
    expect(privateFiles.map((f) => f.replace(/^acme[._-]e2e[._-]utils/i, 'NAME')).sort()).toEqual(['NAME-0.1.0-py3-none-any.whl', 'NAME-0.1.0.tar.gz']);
    expect(listed).toEqual(['Acme.E2E_Utils-9.9.9-py3-none-any.whl', ...privateFiles].sort());
    // Unpinned, pip would take the stranger's 9.9.9: the model can fail, and the pin is what stops it.
    const probe = path.join(tempDir('probe'), 'p');
    const probeHome = tempDir('probe-home');
    writeFileSync(path.join(probeHome, '.netrc'), `machine 127.0.0.1 login oauth2accesstoken password ${NATIVE}\n`);
    const unpinned = run(python, ['-m', 'pip', 'download', '--no-cache-dir', '--no-deps', '-d', probe, '--index-url', `${index.url}${VIRTUAL}/simple/`, 'Acme.E2E-Utils'], { env: { ...env, HOME: probeHome, PYTHONPATH: '', PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' } });
    expect(unpinned.status, unpinned.stderr).toBe(0);
    expect(readdirSync(probe)).toEqual(['Acme.E2E_Utils-9.9.9-py3-none-any.whl']);
    // The stranger's 0.1.0 wheel has the same file name as ours; the virtual repository serves ours.
    const wheel = privateFiles.find((f) => f.endsWith('.whl'))!;
    const served = path.join(tempDir('served'), 'w.whl');
    ok('curl', ['-sf', '-u', `oauth2accesstoken:${NATIVE}`, '-o', served, `${index.url}${VIRTUAL}/packages/${wheel}`]);
    expect(Buffer.compare(readFileSync(served), readFileSync(path.join(index.dataDir, 'packages', wheel)))).toBe(0);
    expect(Buffer.compare(readFileSync(served), readFileSync(path.join(index.dataDir, 'pypi/packages', wheel)))).not.toBe(0);
  });

  // Release order: one push changes the package and a function; both pipelines start at once.
  if (auth === 'native') it('release before deploy: the deploy waits for the version the same push releases, then deploys it; a version never released times out with what to do', async () => {
    const trigger = parse(read(repo, 'triggers/fn-hello.yaml'));
    expect(trigger.includedFiles).toEqual(expect.arrayContaining(['functions/hello/**', 'package/src/**', 'package/pyproject.toml']));
    const init = 'package/src/acme_e2e_utils/__init__.py';
    writeFileSync(path.join(repo, init), read(repo, init).replace('__version__ = "0.1.0"', '__version__ = "0.2.0"'));
    writeFileSync(path.join(repo, 'functions/hello/main.py'), `${read(repo, 'functions/hello/main.py')}\n# changed with the package\n`);
    commit('package 0.2.0 and hello');

    // Unreleased and a short timeout (a manual build, so MUST_MATCH applies): a clear failure.
    const timedOut = build('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml', { mode: 'manual', substitutions: { _PYPI_URL: index.url, _INDEX_URL: `${index.url}${VIRTUAL}/`, _RELEASE_TIMEOUT: '1' } });
    expect(timedOut.steps.map((s) => [s.id, s.status])).toEqual([['prepare-requirements', 0], ['wait-for-release', 1]]);
    expect(timedOut.steps[1].stderr).toContain(`${PROJECT_NAME}==0.2.0 is not in ${PRIVATE} in europe-west1 after 1s. Did the package-release build of this commit fail?`);

    const logBefore = index.requests().length;
    const googleBefore = google.requests().length;
    freshCheckout();
    const steps: string[] = [];
    const deploying = runBuildAsync(buildRun('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml'), (id) => steps.push(id));
    // The deploy asks for its version before the release has it.
    const asked = () => index.requests().slice(logBefore).filter((r) => r.method === 'GET' && r.path === `/simple/${PROJECT_NAME}/`);
    for (let waited = 0; asked().length === 0; waited += 100) {
      if (waited > 20_000) throw new Error(`the deploy never asked the index for ${PROJECT_NAME}; steps: ${steps}`);
      await sleep(100);
    }
    expect(steps).toContain('wait-for-release');
    const release = build('package/cloudbuild.yaml', 'triggers/package.yaml');
    expect(release.ok, release.steps.map((s) => s.stdout + s.stderr).join('\n')).toBe(true);
    const deployed = await deploying;
    for (const step of deployed.steps) printed.push(step.stdout, step.stderr);
    expect(deployed.steps.map((s) => [s.id, s.status]), deployed.steps.map((s) => s.stdout + s.stderr).join('\n')).toEqual([
      ['prepare-requirements', 0], ['wait-for-release', 0], ['deploy', 0],
    ]);
    const waitOut = deployed.steps[1].stdout;
    expect(waitOut).toContain(`${PROJECT_NAME}==0.2.0 is not in ${PRIVATE} in europe-west1 yet`);
    expect(waitOut).toContain(`${PROJECT_NAME}==0.2.0 is in ${PRIVATE} in europe-west1`);
    // Order in the index's log: asked (absent), uploaded, asked (present); then the function build installed 0.2.0.
    const log = index.requests().slice(logBefore);
    const upload = log.findIndex((r) => r.method === 'POST' && r.path === '/' && r.status === 200);
    expect(upload).toBeGreaterThan(log.findIndex((r) => r.path === `/simple/${PROJECT_NAME}/`));
    expect(functionBuilds(googleBefore)).toEqual([expect.objectContaining({ status: 0, downloaded: [expect.stringMatching(/^acme[._-]e2e[._-]utils-0\.2\.0-py3-none-any\.whl$/i)] })]);
  });

  it('4. triggers: gcloud builds triggers import sends each trigger file to the API as written', () => {
    const before = google.requests().length;
    const triggers = listFiles(path.join(repo, 'triggers')).map((f) => `triggers/${f}`);
    expect(triggers.length).toBe(combo(auth).more.length + 3);
    for (const trigger of triggers) {
      ok('gcloud', ['builds', 'triggers', 'import', `--source=${path.join(repo, trigger)}`], { env });
    }
    const imports = google.requests().slice(before).filter((r) => r.method === 'PATCH' && r.path.includes('/triggers/'));
    expect(imports).toHaveLength(triggers.length);
    for (const [i, trigger] of triggers.entries()) {
      const file = parse(read(repo, trigger));
      const event = file.name === 'pull-request-checks' ? 'pullRequest' : 'push';
      expect(imports[i].path.split('/').pop()).toBe(file.name);
      expect(imports[i].body).toMatchObject({
        name: file.name,
        filename: file.filename,
        github: { owner: 'acme', name: 'mono', [event]: { branch: '^main$' } },
        serviceAccount: `projects/${PROJECT}/serviceAccounts/arpypi-build@${PROJECT}.iam.gserviceaccount.com`,
        tags: file.tags,
      });
      expect((imports[i].body as { includedFiles?: unknown }).includedFiles).toEqual(file.includedFiles);
      expect((imports[i].body as { substitutions?: unknown }).substitutions).toEqual(file.substitutions);
    }
  });

  // Event triggers and pull-request checks do not depend on the auth mode: run once, in native mode.
  if (auth === 'native') it('deploys a topic function and a bucket function with their event triggers', () => {
    for (const [name, expected] of [
      ['orders-sync', { eventType: 'google.cloud.pubsub.topic.v1.messagePublished', pubsubTopic: `projects/${PROJECT}/topics/orders` }],
      ['uploads', { eventType: 'google.cloud.storage.object.v1.finalized', eventFilters: [{ attribute: 'bucket', value: 'acme-uploads' }] }],
    ] as const) {
      const before = google.requests().length;
      const result = build(`functions/${name}/cloudbuild.yaml`, `triggers/fn-${name}.yaml`);
      expect(result.ok, result.steps.map((s) => s.stdout + s.stderr).join('\n')).toBe(true);
      const create = google.requests().slice(before).find((r) => r.method === 'POST' && /\/locations\/europe-west1\/functions$/.test(r.path));
      expect(create?.query).toMatchObject({ functionId: name });
      const body = create!.body as { eventTrigger: Record<string, unknown>; serviceConfig: Record<string, unknown> };
      if (name === 'orders-sync') orders314 = functionBuilds(before)[0];
      const account = `fn-${name}@${PROJECT}.iam.gserviceaccount.com`;
      expect(body.eventTrigger).toMatchObject({ ...expected, serviceAccountEmail: account });
      expect(body.serviceConfig).toMatchObject({ serviceAccountEmail: account });
    }
  });

  // Python 3.14: Google's buildpack installs with uv unless GOOGLE_PYTHON_PACKAGE_MANAGER says pip,
  // and only pip gets the repository's credentials.
  if (auth === 'native') it('Python 3.14: the deploy selects pip and the build installs the private package; without that setting the build fails for want of credentials', () => {
    // With the setting: deployed by the event test above, built with pip.
    const config = 'functions/orders-sync/cloudbuild.yaml';
    expect(read(repo, config)).toContain('--runtime=python314');
    expect(orders314).toEqual(expect.objectContaining({ installer: 'pip', credentials: true, status: 0, downloaded: [expect.stringMatching(/^acme[._-]e2e[._-]utils-0\.2\.0-py3-none-any\.whl$/i)] }));

    const unfixed = 'functions/orders-sync/cloudbuild-without-pip.yaml';
    // A new function: gcloud keeps an existing function's build variables when the flag is left out.
    writeFileSync(path.join(repo, unfixed), read(repo, config)
      .replace(/^ *- --set-build-env-vars=GOOGLE_PYTHON_PACKAGE_MANAGER=pip\n/m, '')
      .replace(/^( *- )orders-sync$/m, '$1orders-sync-no-pip'));
    const middle = google.requests().length;
    try {
      const failed = build(unfixed, 'triggers/fn-orders-sync.yaml');
      expect(failed.steps.map((s) => [s.id, s.status])).toEqual([['prepare-requirements', 0], ['wait-for-release', 0], ['deploy', 1]]);
      expect(failed.steps[2].stderr).toMatch(/Build failed: installing requirements.txt with uv failed: .*No matching distribution found for Acme.E2E-Utils==0.2.0/s);
      // The index refused the build's anonymous request: no credentials on the uv path.
      expect(index.requests().filter((r) => r.status === 401 && r.path === `/${VIRTUAL}/simple/${PROJECT_NAME}/` && r.user === null).length).toBeGreaterThan(0);
      expect(functionBuilds(middle)).toEqual([expect.objectContaining({ installer: 'uv', credentials: false, downloaded: [] })]);
    } finally {
      rmSync(path.join(repo, unfixed));
    }
  });

  if (auth === 'native') it('pull-request checks install each function\'s requirements (a new dependency included) with the package from the pull request, run every test, and neither upload nor deploy', () => {
    // The pull request adds a dependency to hello, and changes the package without releasing it.
    publishOnPypi('acme-tinydep', '1.0');
    const tmpl = 'functions/hello/requirements.txt.tmpl';
    writeFileSync(path.join(repo, tmpl), `${read(repo, tmpl)}acme-tinydep==1.0\n`);
    appendFileSync(path.join(repo, 'functions/hello/test_main.py'), '\n\ndef test_the_new_dependency_is_installed():\n    import acme_tinydep\n    assert acme_tinydep.VERSION == "1.0"\n');
    const init = 'package/src/acme_e2e_utils/__init__.py';
    writeFileSync(path.join(repo, init), read(repo, init).replace('__version__ = "0.2.0"', '__version__ = "0.3.0"'));
    commit('pull request: hello needs acme-tinydep; package 0.3.0');
    const uploadsBefore = uploads().length;
    const googleBefore = google.requests().length;
    const result = build('cloudbuild-pr.yaml', 'triggers/pull-request.yaml');
    expect(result.steps.map((s) => [s.id, s.status]), result.steps.map((s) => s.stdout + s.stderr).join('\n')).toEqual([
      ['install-tools', 0], ['test-package', 0],
      ...['hello', 'orders-sync', 'uploads'].flatMap((n) => [[`requirements-${n}`, 0], [`install-${n}`, 0], [`test-${n}`, 0]]),
    ]);
    expect(result.steps.find((s) => s.id === 'test-hello')!.stdout).toMatch(/\b3 passed/);
    for (const step of result.steps.filter((s) => s.id.startsWith('test-'))) expect(step.stdout, step.id).toMatch(/\b[123] passed/);
    const installed = readdirSync(path.join(repo, '.pr-deps/hello')).sort();
    expect(installed).toEqual(expect.arrayContaining(['acme_tinydep', 'acme_e2e_utils']));
    // The package came from the pull request's source (0.3.0 is on no index).
    expect(installed.filter((f) => /^acme[._-]e2e[._-]utils-0\.3\.0\.dist-info$/i.test(f))).toHaveLength(1);
    expect(uploads()).toHaveLength(uploadsBefore);
    expect(google.requests()).toHaveLength(googleBefore);
  });

  it('one trusted index: grep -r -- --extra-index-url over this repository, rendered requirements included, finds nothing', () => {
    const grep = run('grep', ['-rn', '--exclude-dir=.git', '--', '--extra-index-url', repo]);
    expect(grep.status, grep.stdout).toBe(1);
    expect(read(repo, 'functions/hello/requirements.txt')).toMatch(/^--index-url /m);
  });

  it('5. token hygiene: the token is in no tracked file, no printed output and no build log', () => {
    const tracked = ok('git', ['-C', repo, 'ls-files', '-z']).stdout.split('\0').filter(Boolean);
    expect(tracked).not.toContain('functions/hello/requirements.txt');
    expect(ok('git', ['-C', repo, 'status', '--porcelain']).stdout).toBe('');
    for (const secret of [TOKEN, ENCODED, NATIVE]) {
      for (const file of tracked) expect(readFileSync(path.join(repo, file), 'utf8').includes(secret), `${file} holds a secret`).toBe(false);
      expect(printed.join('\n').includes(secret), 'printed output holds a secret').toBe(false);
      const logs = ok('bash', ['-c', 'cat "$0"/*.log', logDir]).stdout;
      expect(logs.length).toBeGreaterThan(0);
      expect(logs.includes(secret), 'a build log holds a secret').toBe(false);
    }
    if (auth === 'token') expect(read(repo, 'functions/hello/requirements.txt')).toContain(ENCODED);
  });

  let orders314: unknown;

  function rendered(): string {
    return read(repo, 'functions/hello/requirements.txt');
  }
});

// The generated repository end to end: its own pipelines run on the host, with the
// real twine, pip and gcloud talking to loopback stand-ins for Artifact Registry and
// the Google APIs. The one seam is _PYPI_URL (PYPI_URL in scripts): the repository
// URL that every pipeline derives from region, project and repository, which a
// trigger, or this test, may override.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveSubstitutions, runBuild } from './support/cloudbuild.js';
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
  // Event functions once, in native mode: their deploys differ in the trigger only.
  more: auth === 'native'
    ? [{ name: 'orders-sync', options: { trigger: 'topic:orders' } }, { name: 'uploads', options: { trigger: 'bucket:acme-uploads' } }]
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

  const build = (config: string, trigger: string, extra: Partial<BuildRun> = {}): BuildResult => {
    const triggerFile = parse(read(repo, trigger));
    const result = runBuild({
      workspace: repo,
      config,
      builtIns: { PROJECT_ID: PROJECT, PROJECT_NUMBER, BUILD_ID: `b-${Date.now()}`, LOCATION: 'global', BRANCH_NAME: 'main' },
      substitutions: { ...triggerFile.substitutions, _PYPI_URL: index.url },
      env,
      entrypoints: { python },
      replacements: { 'install-tools': INSTALL_TOOLS },
      logFile: path.join(logDir, `${path.basename(trigger, '.yaml')}-${Date.now()}.log`),
      ...extra,
    });
    for (const step of result.steps) printed.push(step.stdout, step.stderr);
    return result;
  };
  const uploads = () => index.requests().filter((r) => r.method === 'POST' && (r as { upload?: unknown }).upload);

  beforeAll(async () => {
    repo = await generate(combo(auth));
    ok('git', ['init', '-q', repo]);
    ok('git', ['-C', repo, 'add', '-A']);
    ok('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'generated']);
    writeFileSync(tokenFile, TOKEN);
    writeFileSync(keyringFile, NATIVE);
    index = await startStandin('pypi_index.py', ['--token', TOKEN, '--token', NATIVE]);
    const googleData = tempDir('google-apis');
    // The bucket a bucket-triggered function listens to exists before the deploy, as it must in a real project.
    writeFileSync(path.join(googleData, 'state.json'), JSON.stringify({ buckets: { 'acme-uploads': { location: 'EUROPE-WEST1' } } }));
    google = await startStandin('google_apis.py', [], googleData);
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
    };
  });

  afterAll(async () => {
    await index?.stop();
    await google?.stop();
  });

  it('1. release: tests, builds, uploads with twine; the index serves it; a second release without a bump stops before upload', () => {
    const first = build('package/cloudbuild.yaml', 'triggers/package.yaml');
    expect(first.steps.map((s) => [s.id, s.status]), first.steps.map((s) => s.stderr).join('\n')).toEqual([
      ['install-tools', 0], ['test', 0], ['build', 0], ['check-dist', 0], ['check-version-unpublished', 0], ['upload', 0],
    ]);
    expect(first.substitutions._PYPI_URL).toBe(index.url);
    // Without the test's override, the same seam names the real repository.
    for (const config of ['package/cloudbuild.yaml', 'functions/hello/cloudbuild.yaml']) {
      const values = resolveSubstitutions(parse(read(repo, config)), { PROJECT_ID: PROJECT }, parse(read(repo, 'triggers/package.yaml')).substitutions);
      expect(values._PYPI_URL, config).toBe(`https://europe-west1-python.pkg.dev/${PROJECT}/py-e2e/`);
    }
    expect(uploads().map((r) => r.status)).toEqual([200, 200]);
    const simple = run('curl', ['-sf', '-u', `oauth2accesstoken:${NATIVE}`, `${index.url}simple/acme-e2e-utils/`]);
    expect(simple.stdout).toMatch(/acme[._-]e2e[._-]utils-0\.1\.0-py3-none-any\.whl/i);

    const again = build('package/cloudbuild.yaml', 'triggers/package.yaml');
    expect(again.ok).toBe(false);
    const last = again.steps.at(-1)!;
    expect(last.id).toBe('check-version-unpublished');
    expect(last.stderr).toContain('is already published; bump __version__ in package/src/acme_e2e_utils/__init__.py and release again');
    expect(uploads()).toHaveLength(2);
    const files = run('curl', ['-sf', '-u', `oauth2accesstoken:${NATIVE}`, `${index.url}simple/acme-e2e-utils/`]).stdout.match(/href=/g);
    expect(files).toHaveLength(2);
  });

  it('2. deploy: renders requirements.txt and deploys with the real gcloud; the upload holds main.py and requirements.txt only', () => {
    const result = build('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml');
    expect(result.steps.map((s) => [s.id, s.status]), result.steps.map((s) => s.stdout + s.stderr).join('\n')).toEqual([
      ['prepare-requirements', 0], ['deploy', 0],
    ]);
    const rendered = read(repo, 'functions/hello/requirements.txt');
    const base = index.url.replace('http://', '');
    expect(rendered).toContain(
      auth === 'token' ? `--extra-index-url http://oauth2accesstoken:${ENCODED}@${base}simple/` : `--extra-index-url ${index.url}simple/`,
    );
    const requests = google.requests();
    const puts = requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect((puts[0] as { upload?: { zipMembers?: string[] } }).upload?.zipMembers).toEqual(['main.py', 'requirements.txt']);
    const create = requests.find((r) => r.method === 'POST' && /\/locations\/europe-west1\/functions$/.test(r.path));
    expect(create, JSON.stringify(requests.map((r) => `${r.method} ${r.path}`))).toBeDefined();
    const body = create!.body as { buildConfig: { runtime: string; entryPoint: string }; eventTrigger?: unknown; serviceConfig: Record<string, unknown> };
    expect(create!.query).toMatchObject({ functionId: 'hello' });
    expect(body.buildConfig.runtime).toBe('python311');
    expect(body.buildConfig.entryPoint).toBe('handler');
    expect(body.eventTrigger).toBeUndefined();
    expect(body.serviceConfig).toMatchObject({ availableMemory: '256Mi', timeoutSeconds: 60 });
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
      const account = `fn-${name}@${PROJECT}.iam.gserviceaccount.com`;
      expect(body.eventTrigger).toMatchObject({ ...expected, serviceAccountEmail: account });
      expect(body.serviceConfig).toMatchObject({ serviceAccountEmail: account });
    }
  });

  if (auth === 'native') it('pull-request checks run every test and neither upload nor deploy', () => {
    const uploadsBefore = index.requests().length;
    const googleBefore = google.requests().length;
    const result = build('cloudbuild-pr.yaml', 'triggers/pull-request.yaml');
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ['install-tools', 0], ['test-package', 0], ['test-hello', 0], ['test-orders-sync', 0], ['test-uploads', 0],
    ]);
    for (const step of result.steps.slice(1)) expect(step.stdout, step.id).toMatch(/\b[12] passed/);
    expect(index.requests()).toHaveLength(uploadsBefore);
    expect(google.requests()).toHaveLength(googleBefore);
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

  function rendered(): string {
    return read(repo, 'functions/hello/requirements.txt');
  }
});

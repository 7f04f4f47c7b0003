// The generated repository end to end: scripts/setup-gcp.sh sets up a stand-in project,
// then its own pipelines run on the host, each as the identity its trigger names, with
// the real twine, pip and gcloud talking to loopback stand-ins for Artifact Registry and
// the Google APIs, which enforce IAM as Google does (test/standins/iam.py). The one seam
// is _PYPI_URL (PYPI_URL in scripts): the repository URL that every pipeline derives from
// region, project and repository, which a trigger, or this test, may override.
//
// Least privilege is proven here: every permission check the stand-ins make is recorded
// with the bindings that granted it; each binding setup-gcp.sh made must be the only
// grant of some check of some step (so removing it fails that step with 403), and a
// sample of bindings is removed for real and the step re-run.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveSubstitutions, runBuild } from './support/cloudbuild.js';
import type { BuildResult, BuildRun } from './support/cloudbuild.js';
import { generate, listFiles, read, ROOT, tempDir } from './support/generate.js';
import type { Combo } from './support/generate.js';
import { gcloudEnvFor, iamChecks, runSetup, startStandin, STANDINS, tokenFile, tokenFor } from './support/standins.js';
import type { IamCheck, Standin } from './support/standins.js';
import { ok, requirePython, run } from './support/tools.js';

const PROJECT = 'acme-e2e-1';
const PROJECT_NUMBER = '123456789012';
const REPOSITORY = `projects/${PROJECT}/locations/europe-west1/repositories/py-e2e`;
const OWNER = 'user:owner@example.com';
const sa = (id: string) => `serviceAccount:${id}@${PROJECT}.iam.gserviceaccount.com`;
const BUILD = sa('arpypi-build');
const PR = sa('arpypi-pr');
const FN_BUILD = sa('arpypi-fn-build');
const READER = sa('arpypi-reader');
/** The reader's token as the stand-in mints it on impersonation: characters that break naive templating. */
const TOKEN = tokenFor(READER, 'impersonated&|\\+=');
const ENCODED = encodeURIComponent(TOKEN).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const INSTALL_TOOLS = {
  reason:
    'pip install from PyPI, which this machine cannot reach: Debian provides build, setuptools, wheel, twine and pytest, ' +
    'and the stand-in keyring backend (test/standins/keyring_backend) takes the place of keyrings.google-artifactregistry-auth',
};

const combo = (auth: 'token' | 'native'): Combo => ({
  name: `e2e ${auth}`,
  options: {
    projectId: PROJECT, region: 'europe-west1', repository: 'py-e2e', githubOwner: 'acme', githubRepo: 'mono',
    packageName: 'Acme.E2E-Utils', pythonVersion: '3.11', auth, function: 'hello',
  },
  // Event functions once, in native mode (their deploys differ in the trigger only); a public function in token mode.
  more: auth === 'native'
    ? [{ name: 'orders-sync', options: { trigger: 'topic:orders' } }, { name: 'uploads', options: { trigger: 'bucket:acme-uploads' } }]
    : [{ name: 'open-api', options: { allowUnauthenticated: true } }],
});

/** Google documents backing each role granted (README table). */
const DOCS: Record<string, string> = {
  'roles/artifactregistry.writer': 'https://cloud.google.com/artifact-registry/docs/access-control#roles',
  'roles/artifactregistry.reader': 'https://cloud.google.com/artifact-registry/docs/access-control#roles',
  'roles/logging.logWriter': 'https://cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts',
  'roles/iam.serviceAccountUser': 'https://cloud.google.com/functions/docs/reference/iam/roles#additional-configuration',
  'roles/iam.serviceAccountTokenCreator': 'https://cloud.google.com/iam/docs/create-short-lived-credentials-direct',
  'roles/run.invoker': 'https://cloud.google.com/eventarc/docs/run/create-trigger-pubsub-gcloud',
  'roles/eventarc.eventReceiver': 'https://cloud.google.com/eventarc/docs/run/create-trigger-storage-gcloud',
  'roles/pubsub.publisher': 'https://cloud.google.com/eventarc/docs/run/create-trigger-storage-gcloud',
  'roles/storage.objectViewer': 'https://cloud.google.com/functions/docs/securing/build-custom-sa',
  arpypiFunctionDeployer: 'https://cloud.google.com/functions/docs/reference/iam/roles',
  arpypiInvokerPolicy: 'https://cloud.google.com/functions/docs/securing/managing-access-iam#allowing_unauthenticated_http_function_invocation',
};
/** The function build account's grants follow Google's page on it, whatever the role. */
const FN_BUILD_DOC = 'https://cloud.google.com/functions/docs/securing/build-custom-sa';
/** The Pub/Sub service agent's grant (projects created on or before 2021-04-08). */
const PUBSUB_AGENT_DOC = 'https://cloud.google.com/eventarc/docs/run/create-trigger-pubsub-gcloud#before-you-begin';

interface Binding { resource: string; role: string; member: string; title: string }
const key = (b: Binding) => `${b.resource} ${b.role} ${b.member} ${b.title}`;
interface StepChecks { step: string; checks: IamCheck[] }

/** The README rows this run proves: identity, role, where, the steps that fail without it, the document. */
const proven = new Map<string, Set<string>>();

/** How the README names an identity, a resource and a condition, without project-specific parts. */
function generalise(text: string, functions: string[]): string {
  let out = text
    .replaceAll(`@${PROJECT}.iam.gserviceaccount.com`, '')
    .replace(/^serviceAccount:service-\d+@gs-project-accounts\.iam\.gserviceaccount\.com$/, 'Cloud Storage service agent')
    .replace(/^serviceAccount:service-\d+@gcp-sa-pubsub\.iam\.gserviceaccount\.com$/, 'Pub/Sub service agent')
    .replace(/^serviceAccount:/, '');
  for (const name of [...functions].sort((a, b) => b.length - a.length)) {
    out = out.replaceAll(`fn-${name}`, 'fn-NAME').replaceAll(`ev-${name}`, 'ev-NAME').replace(new RegExp(` ${name}( |$)`, 'g'), ' NAME$1');
  }
  return out;
}

function where(b: Binding, functions: string[]): string {
  if (b.resource === REPOSITORY) return 'the Python repository';
  if (b.resource === `projects/${PROJECT}`) return b.title ? `project, under the condition "${generalise(b.title, functions)}"` : 'project';
  const account = /serviceAccounts\/(.*)$/.exec(b.resource);
  if (account) return `the account ${generalise(account[1], functions)}`;
  return b.resource;
}

interface Prepared { repo: string; google: Standin; index: Standin; ownerEnv: NodeJS.ProcessEnv; setupBindings: Binding[] }
const preparing = new Map<string, Promise<Prepared>>();

/** A generated repository, its stand-ins, and the project that its scripts/setup-gcp.sh set up as the owner. */
async function prepare(auth: 'token' | 'native', repo: string): Promise<Prepared> {
  const googleData = tempDir('google-apis');
  // The bucket a bucket function listens to exists before the deploy, as it must in a real project. The
  // native-mode project is old enough (created before 2021-04-08) to need the Pub/Sub service agent's grant.
  writeFileSync(path.join(googleData, 'state.json'), JSON.stringify({
    projects: { [PROJECT]: { projectNumber: PROJECT_NUMBER, createTime: auth === 'native' ? '2020-06-01T00:00:00.000Z' : '2024-01-01T00:00:00.000Z' } },
    buckets: { 'acme-uploads': { location: 'EUROPE-WEST1', projectNumber: PROJECT_NUMBER } },
  }));
  const google = await startStandin('google_apis.py', [], googleData);
  const index = await startStandin('pypi_index.py', ['--iam-state', path.join(googleData, 'state.json'), '--repository', REPOSITORY]);
  const ownerEnv = {
    ...gcloudEnvFor(google, PROJECT),
    HOME: tempDir('home'),
    PYTHONPATH: path.join(STANDINS, 'keyring_backend'),
    PYTHON_KEYRING_BACKEND: 'ar_standin_keyring.StandinBackend',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
  };
  const setup = await runSetup(repo, [], ownerEnv);
  if (setup.status !== 0) throw new Error(`setup-gcp.sh failed:\n${setup.stdout}${setup.stderr}`);
  console.log(`e2e ${auth}: setup-gcp.sh ${setup.seconds.toFixed(1)} s`);
  const state = JSON.parse(readFileSync(path.join(googleData, 'state.json'), 'utf8')) as { iamPolicies: Record<string, { bindings?: { role: string; members: string[]; condition?: { title: string } }[] }> };
  const setupBindings = Object.entries(state.iamPolicies).flatMap(([resource, policy]) => (policy.bindings ?? []).flatMap((b) =>
    b.members.filter((m) => m !== OWNER).map((member) => ({ resource, role: b.role, member, title: b.condition?.title ?? '' }))));
  return { repo, google, index, ownerEnv, setupBindings };
}

// Both projects are set up side by side (most of the time goes to gcloud starting); the
// repositories are generated one after the other (the generator changes directory).
beforeAll(async () => {
  for (const auth of ['token', 'native'] as const) {
    const repo = await generate(combo(auth));
    ok('git', ['init', '-q', repo]);
    ok('git', ['-C', repo, 'add', '-A']);
    ok('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'generated']);
    const promise = prepare(auth, repo);
    promise.catch(() => undefined); // awaited (and reported) by its describe
    preparing.set(auth, promise);
  }
});

describe.each(['token', 'native'] as const)('%s mode, end to end, each pipeline as its own identity', (auth) => {
  const python = requirePython();
  let repo: string;
  let index: Standin;
  let google: Standin;
  let ownerEnv: NodeJS.ProcessEnv;
  let logDir: string;
  let setupBindings: Binding[] = [];
  const printed: string[] = [];
  const steps: StepChecks[] = [];
  const functions = ['hello', ...combo(auth).more.map((f) => f.name)];

  /** The environment of a process that runs as MEMBER: gcloud's token and the keyring's (twine, pip). */
  const envAs = (member: string): NodeJS.ProcessEnv => {
    const file = tokenFile(member);
    return { ...ownerEnv, CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: file, AR_STANDIN_TOKEN_FILE: file };
  };
  const counts = () => [google.requests().length, index.requests().length];
  /** Runs FN and files every permission check the stand-ins made meanwhile under STEP. */
  const observe = <T>(step: string, fn: () => T): T => {
    const [g, i] = counts();
    const result = fn();
    const checks = [...iamChecks(google.requests().slice(g)), ...iamChecks(index.requests().slice(i))];
    for (const by of new Set(checks.map((c) => c.by))) {
      steps.push({ step: by ? `${step} (${by})` : step, checks: checks.filter((c) => c.by === by) });
    }
    return result;
  };

  const build = (config: string, trigger: string, extra: Partial<BuildRun> = {}, asMember?: string): BuildResult => {
    const triggerFile = parse(read(repo, trigger));
    const member = asMember ?? `serviceAccount:${String(triggerFile.serviceAccount).split('/').pop()}`;
    const env = envAs(member);
    const pipeline = String(triggerFile.name);
    let marks: number[] = [];
    const result = runBuild({
      workspace: repo,
      config,
      builtIns: { PROJECT_ID: PROJECT, PROJECT_NUMBER, BUILD_ID: `b-${Date.now()}`, LOCATION: 'global', BRANCH_NAME: 'main' },
      substitutions: { ...triggerFile.substitutions, _PYPI_URL: index.url },
      env,
      entrypoints: { python },
      replacements: { 'install-tools': INSTALL_TOOLS },
      logFile: path.join(logDir, `${pipeline}-${Date.now()}.log`),
      // Cloud Build writes the build's log to Cloud Logging as its service account (CLOUD_LOGGING_ONLY).
      start: () => run('gcloud', ['logging', 'write', 'cloudbuild', `build of ${pipeline}`, `--project=${PROJECT}`], { env }),
      around: (id, phase) => {
        if (phase === 'before') marks = counts();
        else {
          const checks = [...iamChecks(google.requests().slice(marks[0])), ...iamChecks(index.requests().slice(marks[1]))];
          for (const by of new Set(checks.map((c) => c.by))) {
            const label = id === 'start' ? 'start (the build log)' : id;
            steps.push({ step: `${pipeline}: ${label}${by ? ` (${by})` : ''}`, checks: checks.filter((c) => c.by === by) });
          }
        }
      },
      ...extra,
    });
    for (const step of result.steps) printed.push(step.stdout, step.stderr);
    return result;
  };
  const uploads = () => index.requests().filter((r) => r.method === 'POST' && (r as { upload?: unknown }).upload);
  const show = (r: BuildResult) => r.steps.map((s) => `${s.id}: ${s.status}\n${s.stdout}${s.stderr}`).join('\n');

  // Both setups run side by side with the rest of the suite: on a loaded 2-core machine that can take minutes.
  beforeAll(async () => {
    ({ repo, google, index, ownerEnv, setupBindings } = await preparing.get(auth)!);
    logDir = tempDir('build-logs');
  }, 600_000);

  afterAll(async () => {
    await index?.stop();
    await google?.stop();
  });

  it('1. release, as arpypi-build: tests, builds, uploads with twine; the index serves it; a second release without a bump stops before upload', () => {
    const first = build('package/cloudbuild.yaml', 'triggers/package.yaml');
    expect(first.steps.map((s) => [s.id, s.status]), show(first)).toEqual([
      ['install-tools', 0], ['test', 0], ['build', 0], ['check-dist', 0], ['check-version-unpublished', 0], ['upload', 0],
    ]);
    expect(first.substitutions._PYPI_URL).toBe(index.url);
    // Without the test's override, the same seam names the real repository.
    for (const config of ['package/cloudbuild.yaml', 'functions/hello/cloudbuild.yaml']) {
      const values = resolveSubstitutions(parse(read(repo, config)), { PROJECT_ID: PROJECT }, parse(read(repo, 'triggers/package.yaml')).substitutions);
      expect(values._PYPI_URL, config).toBe(`https://europe-west1-python.pkg.dev/${PROJECT}/py-e2e/`);
    }
    expect(uploads().map((r) => [r.status, r.identity])).toEqual([[200, BUILD], [200, BUILD]]);
    const simple = run('curl', ['-sf', '-u', `oauth2accesstoken:${tokenFor(BUILD)}`, `${index.url}simple/acme-e2e-utils/`]);
    expect(simple.stdout).toMatch(/acme[._-]e2e[._-]utils-0\.1\.0-py3-none-any\.whl/i);

    const again = build('package/cloudbuild.yaml', 'triggers/package.yaml');
    expect(again.ok).toBe(false);
    const last = again.steps.at(-1)!;
    expect(last.id).toBe('check-version-unpublished');
    expect(last.stderr).toContain('is already published; bump __version__ in package/src/acme_e2e_utils/__init__.py and release again');
    expect(uploads()).toHaveLength(2);
  });

  it('2. deploy, as arpypi-build: renders requirements.txt and deploys with the real gcloud; the function builds as arpypi-fn-build', () => {
    const result = build('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml');
    expect(result.steps.map((s) => [s.id, s.status]), show(result)).toEqual([['prepare-requirements', 0], ['deploy', 0]]);
    const rendered = read(repo, 'functions/hello/requirements.txt');
    const base = index.url.replace('http://', '');
    expect(rendered).toContain(
      auth === 'token' ? `--extra-index-url http://oauth2accesstoken:${ENCODED}@${base}simple/` : `--extra-index-url ${index.url}simple/`,
    );
    const requests = google.requests();
    if (auth === 'token') {
      // The token is the reader's, minted by impersonation as the build account; never the build account's own.
      const minted = requests.filter((r) => r.rpc === 'serviceAccounts.generateAccessToken');
      expect(minted.map((r) => [r.status, r.identity, r.path])).toEqual([[200, BUILD, `/v1/projects/-/serviceAccounts/${READER.split(':')[1]}:generateAccessToken`]]);
      expect(rendered).not.toContain(encodeURIComponent(tokenFor(BUILD)));
    }
    const puts = requests.filter((r) => r.rpc === 'upload.put');
    expect(puts).toHaveLength(1);
    expect((puts[0] as { upload?: { zipMembers?: string[] } }).upload?.zipMembers).toEqual(['main.py', 'requirements.txt']);
    const create = requests.find((r) => r.method === 'POST' && /\/locations\/europe-west1\/functions$/.test(r.path));
    expect(create, JSON.stringify(requests.map((r) => `${r.method} ${r.path}`))).toBeDefined();
    expect(create!.identity).toBe(BUILD);
    const body = create!.body as { buildConfig: Record<string, unknown>; eventTrigger?: unknown; serviceConfig: Record<string, unknown> };
    expect(create!.query).toMatchObject({ functionId: 'hello' });
    expect(body.buildConfig).toMatchObject({ runtime: 'python311', entryPoint: 'handler', serviceAccount: `projects/${PROJECT}/serviceAccounts/${FN_BUILD.split(':')[1]}` });
    expect(body.eventTrigger).toBeUndefined();
    expect(body.serviceConfig).toMatchObject({ availableMemory: '256Mi', timeoutSeconds: 60, serviceAccountEmail: sa('fn-hello').split(':')[1] });
    // A private function: gcloud touched no invoker policy.
    expect(requests.filter((r) => String(r.rpc).endsWith('IamPolicy') && r.identity === BUILD)).toEqual([]);
  });

  it('3. install, as the function build reads the index: pip installs the package with the rendered requirements; another identity gets 401 or 403', () => {
    const venv = path.join(tempDir('venv'), 'v');
    ok(python, ['-m', 'venv', '--system-site-packages', venv]);
    const netrcHome = (member: string | null) => {
      const home = tempDir('pip-home');
      if (auth === 'native' && member) writeFileSync(path.join(home, '.netrc'), `machine 127.0.0.1 login oauth2accesstoken password ${tokenFor(member)}\n`);
      return home;
    };
    // Native: Google's build writes a .netrc for the function build account; token: the URL carries the reader's token.
    const pipEnv = { ...ownerEnv, HOME: netrcHome(FN_BUILD), PYTHONPATH: '', PIP_RETRIES: '0', PIP_TIMEOUT: '5' };
    const install = observe(auth === 'native' ? 'function build: pip reads the index as arpypi-fn-build' : 'function build: pip reads the index with the reader token', () =>
      run(path.join(venv, 'bin/pip'), ['install', '--no-cache-dir', '-r', 'requirements.txt'], { cwd: path.join(repo, 'functions/hello'), env: pipEnv }));
    expect(install.status, install.stdout + install.stderr).toBe(0);
    expect(install.stdout).toMatch(/Successfully installed Acme[.-]E2E[-_]Utils-0\.1\.0/i);
    expect(index.requests().filter((r) => r.method === 'GET').at(-1)?.identity).toBe(auth === 'native' ? FN_BUILD : READER);
    const test = run(path.join(venv, 'bin/python'), ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: path.join(repo, 'functions/hello'), env: pipEnv });
    expect(test.stdout).toMatch(/2 passed/);

    // A wrong credential is refused with a 401; a real identity without a binding with a 403.
    for (const [secret, code] of [['wrong-token', 401], [tokenFor(PR), 403]] as const) {
      const wrong = path.join(tempDir('wrong'), 'w');
      mkdirSync(wrong);
      const rendered = read(repo, 'functions/hello/requirements.txt');
      writeFileSync(path.join(wrong, 'requirements.txt'), auth === 'token' ? rendered.replace(ENCODED, encodeURIComponent(secret)) : rendered);
      const home = tempDir('wrong-home');
      if (auth === 'native') writeFileSync(path.join(home, '.netrc'), `machine 127.0.0.1 login oauth2accesstoken password ${secret}\n`);
      const refused = run(path.join(venv, 'bin/pip'), ['install', '--no-cache-dir', '--force-reinstall', '-r', 'requirements.txt'], { cwd: wrong, env: { ...pipEnv, HOME: home } });
      expect(refused.status).not.toBe(0);
      expect(index.requests().at(-1)!.status).toBe(code);
    }
  });

  it('4. triggers: setup-gcp.sh imported each trigger file as written, the pull-request one running as arpypi-pr', () => {
    const triggers = listFiles(path.join(repo, 'triggers')).map((f) => `triggers/${f}`);
    expect(triggers.length).toBe(combo(auth).more.length + 3);
    const imports = google.requests().filter((r) => r.rpc === 'triggers.create' && r.status === 200);
    expect(imports).toHaveLength(triggers.length);
    for (const trigger of triggers) {
      const file = parse(read(repo, trigger));
      const sent = imports.find((r) => (r.body as { name: string }).name === file.name)!;
      expect(sent.path).toBe(`/v1/projects/${PROJECT}/locations/global/triggers`);
      const event = file.name === 'pull-request-checks' ? 'pullRequest' : 'push';
      expect(sent.body).toMatchObject({
        name: file.name, filename: file.filename, github: { owner: 'acme', name: 'mono', [event]: { branch: '^main$' } },
        serviceAccount: `projects/${PROJECT}/serviceAccounts/${(file.name === 'pull-request-checks' ? PR : BUILD).split(':')[1]}`,
        tags: file.tags,
      });
    }
  });

  if (auth === 'token') it('deploys a public function: allUsers may invoke its service, and only the build account\'s conditional role let it set that', () => {
    const result = build('functions/open-api/cloudbuild.yaml', 'triggers/fn-open-api.yaml');
    expect(result.ok, show(result)).toBe(true);
    const service = `projects/${PROJECT}/locations/europe-west1/services/open-api`;
    const set = google.requests().filter((r) => r.rpc === 'services.setIamPolicy');
    expect(set.map((r) => [r.status, r.identity, r.path.replace(/^.*?projects/, 'projects').replace(':setIamPolicy', '')])).toEqual([[200, BUILD, service]]);
    expect(JSON.stringify(set[0].body)).toContain('allUsers');
  });

  if (auth === 'native') it('deploys a topic function and a bucket function, each with its own trigger identity; their events are delivered as it', () => {
    for (const [name, expected] of [
      ['orders-sync', { eventType: 'google.cloud.pubsub.topic.v1.messagePublished', pubsubTopic: `projects/${PROJECT}/topics/orders` }],
      ['uploads', { eventType: 'google.cloud.storage.object.v1.finalized', eventFilters: [{ attribute: 'bucket', value: 'acme-uploads' }] }],
    ] as const) {
      const before = google.requests().length;
      const result = build(`functions/${name}/cloudbuild.yaml`, `triggers/fn-${name}.yaml`);
      expect(result.ok, show(result)).toBe(true);
      const create = google.requests().slice(before).find((r) => r.method === 'POST' && /\/locations\/europe-west1\/functions$/.test(r.path));
      expect(create?.query).toMatchObject({ functionId: name });
      const body = create!.body as { eventTrigger: Record<string, unknown>; serviceConfig: Record<string, unknown> };
      expect(body.eventTrigger).toMatchObject({ ...expected, serviceAccountEmail: sa(`ev-${name}`).split(':')[1] });
      expect(body.serviceConfig).toMatchObject({ serviceAccountEmail: sa(`fn-${name}`).split(':')[1] });
    }
    // A message on the topic and an object in the bucket reach their functions as the trigger identities.
    const published = observe('a message on the topic', () =>
      run('gcloud', ['pubsub', 'topics', 'publish', 'orders', '--message=hi', `--project=${PROJECT}`], { env: ownerEnv }));
    expect(published.status, published.stderr).toBe(0);
    const uploaded = observe('an object in the bucket', () => run('curl', ['-sf', '-X', 'POST', '-H', `Authorization: Bearer ${tokenFor(OWNER)}`,
      '--data-binary', 'x', `${google.url}upload/storage/v1/b/acme-uploads/o?uploadType=media&name=in.csv`]));
    expect(uploaded.status, uploaded.stderr).toBe(0);
    const deliveries = google.requests().flatMap((r) => (r.deliveries as { function: string; status: number; member: string }[] | undefined) ?? []);
    expect(deliveries.map((d) => [d.function.split('/').pop(), d.status, d.member])).toEqual([
      ['orders-sync', 200, sa('ev-orders-sync')], ['uploads', 200, sa('ev-uploads')],
    ]);
  });

  it('pull-request checks, as arpypi-pr, run every test and neither upload nor deploy', () => {
    const uploadsBefore = index.requests().length;
    const googleBefore = google.requests().length;
    const result = build('cloudbuild-pr.yaml', 'triggers/pull-request.yaml');
    expect(result.steps.map((s) => [s.id, s.status]), show(result)).toEqual([
      ['install-tools', 0], ['test-package', 0], ...[...functions].sort().map((n) => [`test-${n}`, 0]),
    ]);
    for (const step of result.steps.slice(1)) expect(step.stdout, step.id).toMatch(/\b[12] passed/);
    expect(index.requests()).toHaveLength(uploadsBefore);
    // Only the log write of the build's start.
    expect(google.requests().slice(googleBefore).map((r) => [r.rpc, r.identity])).toEqual([['entries.write', PR]]);
  });

  if (auth === 'native') it('as the pull-request identity, an upload, a function deploy and a token for another account each get 403', () => {
    const env = envAs(PR);
    const dist = path.join(repo, 'package/dist');
    const upload = run(python, ['-m', 'twine', 'upload', '--non-interactive', '--repository-url', index.url, path.join(dist, '*.whl')], { env, cwd: repo });
    expect(upload.status).not.toBe(0);
    expect(upload.stdout + upload.stderr).toMatch(/403/);
    expect(index.requests().at(-1)).toMatchObject({ status: 403, identity: PR });
    const deploy = run('gcloud', ['functions', 'deploy', 'hello', '--gen2', '--region=europe-west1', '--runtime=python311', '--source=.',
      '--trigger-http', '--entry-point=handler', `--project=${PROJECT}`, '--quiet'], { env, cwd: path.join(repo, 'functions/hello') });
    expect(deploy.status).not.toBe(0);
    expect(deploy.stderr).toMatch(/Permission 'cloudfunctions\.functions\.(get|create|sourceCodeSet)' denied/);
    for (const other of [BUILD, FN_BUILD]) {
      const minted = run('gcloud', ['auth', 'print-access-token', `--impersonate-service-account=${other.split(':')[1]}`], { env });
      expect(minted.status).not.toBe(0);
      expect(minted.stderr).toMatch(/iam\.serviceAccounts\.getAccessToken/);
    }
  });

  it('5. token hygiene: the token is in no tracked file, no printed output and no build log', () => {
    const tracked = ok('git', ['-C', repo, 'ls-files', '-z']).stdout.split('\0').filter(Boolean);
    expect(tracked).not.toContain('functions/hello/requirements.txt');
    expect(ok('git', ['-C', repo, 'status', '--porcelain']).stdout).toBe('');
    for (const secret of [TOKEN, ENCODED, tokenFor(BUILD), tokenFor(FN_BUILD)]) {
      for (const file of tracked) expect(readFileSync(path.join(repo, file), 'utf8').includes(secret), `${file} holds a secret`).toBe(false);
      expect(printed.join('\n').includes(secret), 'printed output holds a secret').toBe(false);
      const logs = ok('bash', ['-c', 'cat "$0"/*.log', logDir]).stdout;
      expect(logs.length).toBeGreaterThan(0);
      expect(logs.includes(secret), 'a build log holds a secret').toBe(false);
    }
    if (auth === 'token') expect(read(repo, 'functions/hello/requirements.txt')).toContain(ENCODED);
  });

  it('6. least privilege: every binding setup-gcp.sh made is the only grant of a check some step made; no step was refused', () => {
    const refused = steps.flatMap((s) => s.checks.filter((c) => c.grantedBy.length === 0).map((c) => `${s.step}: ${c.member} ${c.permission} ${c.resource}`));
    // Refusals happen only where a test asks for them (the pull-request identity's attempts), and where gcloud
    // looks before a deploy and goes on when it may not know: whether the APIs are enabled, and (for a topic
    // function) whether the Pub/Sub service agent holds the token-creator role that setup-gcp.sh grants.
    const tolerated = [`serviceusage.services.get projects/${PROJECT}`, `resourcemanager.projects.getIamPolicy projects/${PROJECT}`];
    expect(refused.filter((r) => !r.includes(PR) && !tolerated.some((t) => r.endsWith(t)))).toEqual([]);
    expect(setupBindings.length).toBeGreaterThan(8);
    const unneeded: string[] = [];
    for (const binding of setupBindings) {
      const needing = steps.filter((s) => s.checks.some((c) => c.member === binding.member && c.grantedBy.length === 1
        && c.grantedBy[0][0] === binding.resource && c.grantedBy[0][1] === binding.role && c.grantedBy[0][2] === binding.title));
      if (needing.length === 0) {
        unneeded.push(key(binding));
        continue;
      }
      const role = binding.role.replace(/^projects\/[^/]+\/roles\//, '');
      const isFnBuild = binding.member === FN_BUILD && role !== 'roles/artifactregistry.reader';
      const doc = binding.member.includes('gcp-sa-pubsub') ? PUBSUB_AGENT_DOC : isFnBuild ? FN_BUILD_DOC : DOCS[role];
      expect(doc, `no document named for ${role}`).toBeDefined();
      const row = `| ${generalise(binding.member, functions)} | \`${role}\` | ${where(binding, functions)} | ${doc} |`;
      const stepsOf = proven.get(row) ?? new Set<string>();
      for (const s of needing) stepsOf.add(generalise(s.step, functions));
      proven.set(row, stepsOf);
    }
    expect(unneeded, 'bindings that no step needs').toEqual([]);
  });

  it('7. removing a binding for real fails the step that needs it with 403', async () => {
    const policyCall = async (resource: string, verb: 'get' | 'set', policy?: unknown) => {
      // Artifact Registry reads a policy with GET, the other APIs with POST.
      const response = await fetch(`${google.url}v1/${resource}:${verb}IamPolicy`, {
        method: verb === 'get' && resource.includes('/repositories/') ? 'GET' : 'POST',
        headers: { Authorization: `Bearer ${tokenFor(OWNER)}`, 'Content-Type': 'application/json' },
        ...(verb === 'get' && resource.includes('/repositories/') ? {} : { body: JSON.stringify(verb === 'set' ? { policy } : {}) }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { bindings?: { role: string; members: string[] }[] };
    };
    const without = async (resource: string, role: string, member: string, step: () => void) => {
      const policy = await policyCall(resource, 'get');
      const original = structuredClone(policy);
      for (const b of policy.bindings ?? []) if (b.role === role) b.members = b.members.filter((m) => m !== member);
      await policyCall(resource, 'set', policy);
      try {
        step();
      } finally {
        await policyCall(resource, 'set', { ...original, etag: undefined });
      }
    };
    // The release's upload needs the build account's writer role on the repository.
    await without(REPOSITORY, 'roles/artifactregistry.writer', BUILD, () => {
      const result = run(python, ['-m', 'twine', 'upload', '--non-interactive', '--repository-url', index.url, path.join(repo, 'package/dist/*.whl')], { env: envAs(BUILD), cwd: repo });
      expect(result.stdout + result.stderr).toMatch(/403/);
    });
    // A build cannot start without writing its log.
    await without(`projects/${PROJECT}`, 'roles/logging.logWriter', BUILD, () => {
      const result = build('package/cloudbuild.yaml', 'triggers/package.yaml');
      expect(result.steps.map((s) => [s.id, s.status])).toEqual([['start', 1]]);
      expect(result.steps[0].stderr).toContain("Permission 'logging.logEntries.create' denied");
    });
    // The deploy acts as the runtime account.
    await without(`projects/${PROJECT}/serviceAccounts/${sa('fn-hello').split(':')[1]}`, 'roles/iam.serviceAccountUser', BUILD, () => {
      const result = build('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml');
      expect(result.ok).toBe(false);
      expect(result.steps.at(-1)!.stderr).toContain("Permission 'iam.serviceAccounts.actAs' denied");
    });
  });
});

describe('README: the least-privilege table', () => {
  it('lists exactly the bindings the end-to-end runs proved, with the steps that fail without them', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = /<!-- least-privilege:start -->\n([\s\S]*?)<!-- least-privilege:end -->/.exec(readme);
    const rows = [...proven.entries()].map(([row, stepsOf]) => row.replace(/ \| (https:\S+) \|$/, ` | ${[...stepsOf].sort().join('; ')} | $1 |`)).sort();
    const table = ['| identity | role | where | steps that fail with 403 without it | Google document |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
    if (process.env.ARPYPI_WRITE_README) writeFileSync(path.join(tempDir('readme'), 'table.md'), table);
    expect(section?.[1].trim(), `README.md needs this table between the least-privilege markers:\n${table}`).toBe(table);
  });
});

// scripts/setup-gcp.sh of a generated repository, run with the real bash and the real
// gcloud against the loopback stand-in of the Google APIs (test/standins/google_apis.py).
// What the project must end up with is derived here from the answers and from the
// files that use it (the deploy steps, the triggers), not from the script. The stand-in
// enforces IAM: the first run is made by an identity holding exactly the roles that the
// script's header lists.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { read, runApp, runFunction, tempDir } from './support/generate.js';
import { completeGithubConnection, gcloudEnvFor, runSetup, startStandin } from './support/standins.js';
import type { RecordedRequest, Standin } from './support/standins.js';
import { ok, run, which } from './support/tools.js';

const PROJECT = 'acme-setup-1';
const PROJECT_NUMBER = '555000111222';
const WORKER = `order-worker@${PROJECT}.iam.gserviceaccount.com`;
const BUCKET = 'uploads-bucket';
const APP_OPTIONS = {
  projectId: PROJECT, region: 'us', functionRegion: 'us-east4', repository: 'py-internal', githubOwner: 'acme',
  githubRepo: 'mono', packageName: 'acme-utils', pythonVersion: '3.12', auth: 'native', function: 'api', triggers: 'github-app',
};
const MORE = [
  { name: 'on-order', options: { trigger: 'topic:orders', serviceAccount: WORKER } },
  { name: 'on-upload', options: { trigger: `bucket:${BUCKET}` } },
];
const FUNCTIONS = ['api', ...MORE.map((f) => f.name)];

/** Who runs the script: an administrator holding the roles the script's header lists, and one holding all but one. */
const ADMIN = 'user:admin@example.com';
const ADMIN_MINUS = 'user:almost@example.com';
const OWNER = 'user:owner@example.com';
const MISSING_ROLE = 'roles/iam.serviceAccountAdmin';
let headerRoles: string[] = [];

/** A project as Google makes it (before 2021-04-08, so Pub/Sub's agent needs its grant): some APIs on, an owner,
 * the default compute account; plus what the user made, and the administrators. */
function ownerPolicy(): { version: number; etag: string; bindings: { role: string; members: string[] }[] } {
  return {
    version: 1, etag: 'ACAB', bindings: [
      { role: 'roles/owner', members: ['user:owner@example.com'] },
      ...headerRoles.map((role) => ({ role, members: role === MISSING_ROLE ? [ADMIN] : [ADMIN, ADMIN_MINUS] })),
    ],
  };
}
function seed(withPrerequisites: boolean): Record<string, unknown> {
  const account = (email: string) => ({ name: `projects/${PROJECT}/serviceAccounts/${email}`, email, projectId: PROJECT, uniqueId: `1${email.length}` });
  const compute = `${PROJECT_NUMBER}-compute@developer.gserviceaccount.com`;
  return {
    projects: { [PROJECT]: { projectNumber: PROJECT_NUMBER, createTime: '2019-05-01T00:00:00.000Z' } },
    // Pub/Sub on since before 2021-04-08: its service agent lacks the role Google grants agents made since.
    services: { [PROJECT]: ['bigquery.googleapis.com', 'logging.googleapis.com', 'pubsub.googleapis.com', 'storage.googleapis.com', 'serviceusage.googleapis.com'] },
    iamPolicies: { [`projects/${PROJECT}`]: ownerPolicy() },
    serviceAccounts: { [compute]: account(compute), ...(withPrerequisites ? { [WORKER]: account(WORKER) } : {}) },
    buckets: withPrerequisites ? { [BUCKET]: { location: 'US-EAST4', projectNumber: PROJECT_NUMBER } } : {},
  };
}

async function standin(state: Record<string, unknown> | null): Promise<Standin> {
  const dataDir = tempDir('setup-gcp-apis');
  if (state) writeFileSync(path.join(dataDir, 'state.json'), JSON.stringify(state));
  return startStandin('google_apis.py', [], dataDir);
}

const gcloudEnv = (google: Standin, member = ADMIN): NodeJS.ProcessEnv => gcloudEnvFor(google, PROJECT, member);

interface Run { status: number | null; stdout: string; stderr: string; seconds: number }
const setup = (dir: string, args: string[], env: NodeJS.ProcessEnv, cwd = dir): Promise<Run> => runSetup(dir, args, env, cwd);

const rpcs = (requests: RecordedRequest[], rpc: string) => requests.filter((r) => r.rpc === rpc);
const show = (r: Run) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** "RESOURCE ROLE MEMBER[ if CONDITION]" for each member of each binding. */
function triples(resource: string, policy: { bindings?: { role: string; members: string[]; condition?: { expression: string } }[] } | undefined): string[] {
  return (policy?.bindings ?? []).flatMap((b) => b.members.map((m) => `${resource} ${b.role} ${m}${b.condition ? ` if ${b.condition.expression}` : ''}`));
}

/** The IAM resource a setIamPolicy path names, as the stand-in keys it. */
function iamResource(p: string): string {
  const sa = /^\/v1\/projects\/[^/]+\/serviceAccounts\/([^/:]+):setIamPolicy$/.exec(p);
  if (sa) return `projects/${sa[1].split('@')[1].split('.')[0]}/serviceAccounts/${sa[1]}`;
  return p.replace(/^\/v1\//, '').replace(/:setIamPolicy$/, '');
}

/** Bindings that the setIamPolicy requests added to (and removed from) what the project had. */
function bindingChanges(requests: RecordedRequest[], before: Record<string, string[]>): { added: string[]; removed: string[] } {
  const now = new Map(Object.entries(before).map(([k, v]) => [k, new Set(v)]));
  const added = new Set<string>();
  const removed = new Set<string>();
  for (const r of rpcs(requests, 'projects.setIamPolicy').concat(rpcs(requests, 'repositories.setIamPolicy'), rpcs(requests, 'serviceAccounts.setIamPolicy'))) {
    expect(r.status, JSON.stringify(r)).toBe(200);
    const resource = iamResource(r.path);
    const next = new Set(triples(resource, (r.body as { policy: Parameters<typeof triples>[1] }).policy));
    const prev = now.get(resource) ?? new Set<string>();
    for (const t of next) if (!prev.has(t)) added.add(t);
    for (const t of prev) if (!next.has(t)) removed.add(t);
    now.set(resource, next);
  }
  return { added: [...added].sort(), removed: [...removed].sort() };
}

describe('scripts/setup-gcp.sh against the Google APIs stand-in', () => {
  let dir: string;
  let google: Standin;
  let bare: Standin;
  let fewer: Standin;
  let first: Run;
  let missing: Run;
  let refused: Run;
  let firstRequests: RecordedRequest[];

  // What the repository needs, from the answers and from the files that rely on it.
  let buildAccount: string;
  let prAccount: string;
  let fnBuildAccount: string;
  let runtimeAccounts: Record<string, string>;
  let triggerAccounts: Record<string, string>;
  let triggers: { file: string; name: string; tag: string; body: Record<string, unknown> }[];
  let expectedBindings: string[];
  const requiredApis = [
    'artifactregistry', 'cloudbuild', 'cloudfunctions', 'run', 'iam', 'logging', // every repository
    'pubsub', 'eventarc', // topic and bucket functions
    'storage', // bucket functions
  ].map((a) => `${a}.googleapis.com`).sort();
  const repositoryName = `projects/${PROJECT}/locations/us/repositories/py-internal`;
  /** The Docker repository of the functions' images, in their region (the deploys name it). */
  const imagesName = `projects/${PROJECT}/locations/us-east4/repositories/py-internal-functions`;
  /** The virtual repository pip reads (the private one first, then PyPI). */
  const indexName = `projects/${PROJECT}/locations/us/repositories/py-internal-index`;
  const deployArgs = (name: string): string[] => parse(read(dir, `functions/${name}/cloudbuild.yaml`)).steps.find((s: { id: string }) => s.id === 'deploy').args;
  const flag = (args: string[], name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

  beforeAll(async () => {
    dir = tempDir('setup-gcp');
    await runApp(dir, APP_OPTIONS);
    for (const fn of MORE) await runFunction(dir, fn.name, fn.options);
    // The roles a non-owner needs, as the script's header lists them.
    headerRoles = [...read(dir, 'scripts/setup-gcp.sh').split('\n# Usage:')[0].matchAll(/^# {3}(roles\/[A-Za-z.]+) /gm)].map((m) => m[1]);
    expect(headerRoles).toContain(MISSING_ROLE);

    // The build account: the one the push triggers name; the pull-request trigger's own.
    triggers = readdirTriggers(dir);
    const accountOf = (t: { body: Record<string, unknown> }) => String(t.body.serviceAccount).replace(/^projects\/[^/]+\/serviceAccounts\//, '');
    const push = new Set(triggers.filter((t) => t.name !== 'pull-request-checks').map(accountOf));
    expect(push.size).toBe(1);
    buildAccount = [...push][0];
    prAccount = accountOf(triggers.find((t) => t.name === 'pull-request-checks')!);
    expect(prAccount).not.toBe(buildAccount);
    // Each function's runtime and trigger accounts: the ones its deploy step names.
    runtimeAccounts = Object.fromEntries(FUNCTIONS.map((name) => [name, flag(deployArgs(name), 'service-account')!]));
    triggerAccounts = Object.fromEntries(FUNCTIONS.filter((n) => n !== 'api').map((name) => [name, flag(deployArgs(name), 'trigger-service-account')!]));
    expect(runtimeAccounts['on-order']).toBe(WORKER);
    expect(Object.values(triggerAccounts).some((a) => Object.values(runtimeAccounts).includes(a))).toBe(false);
    const fnBuildFlags = new Set(FUNCTIONS.map((name) => flag(deployArgs(name), 'build-service-account')?.split('/').pop()));
    expect(fnBuildFlags.size).toBe(1);
    fnBuildAccount = [...fnBuildFlags][0]!;
    expect(new Set(FUNCTIONS.map((name) => flag(deployArgs(name), 'docker-repository')))).toEqual(new Set([imagesName]));

    const build = `serviceAccount:${buildAccount}`;
    const fnBuild = `serviceAccount:${fnBuildAccount}`;
    const project = `projects/${PROJECT}`;
    const account = (a: string) => `${project}/serviceAccounts/${a}`;
    expectedBindings = [
      `${repositoryName} roles/artifactregistry.writer ${build}`,
      // the deploys pin the released wheel by its URL there; the pull-request checks compare with what is published
      `${repositoryName} roles/artifactregistry.reader ${fnBuild}`,
      `${repositoryName} roles/artifactregistry.reader serviceAccount:${prAccount}`,
      `${project} ${project}/roles/arpypiFunctionDeployer ${build}`,
      `${project} roles/logging.logWriter ${build}`,
      `${project} roles/logging.logWriter serviceAccount:${prAccount}`,
      `${account(fnBuildAccount)} roles/iam.serviceAccountUser ${build}`,
      ...Object.values(runtimeAccounts).map((a) => `${account(a)} roles/iam.serviceAccountUser ${build}`),
      ...Object.values(triggerAccounts).map((a) => `${account(a)} roles/iam.serviceAccountUser ${build}`),
      `${project} roles/logging.logWriter ${fnBuild}`,
      // the function builds push their images to the repository their deploys name, and to no other
      `${imagesName} roles/artifactregistry.writer ${fnBuild}`,
      `${project} roles/storage.objectViewer ${fnBuild} if resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${PROJECT_NUMBER}-us-east4/")`,
      // the function builds' pip reads the index (both modes: the buildpack's .netrc wins over the URL's token)
      `${indexName} roles/artifactregistry.reader ${fnBuild}`,
      // the pull-request checks install each function's requirements from the index
      `${indexName} roles/artifactregistry.reader serviceAccount:${prAccount}`,
      // Cloud Run reads no IAM condition: the trigger identities may invoke on the project (README, "Identities")
      ...Object.values(triggerAccounts).map((a) => `${project} roles/run.invoker serviceAccount:${a}`),
      `${project} roles/eventarc.eventReceiver serviceAccount:${triggerAccounts['on-upload']}`,
      `${project} roles/pubsub.publisher serviceAccount:service-${PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com`,
      // the Pub/Sub agent holds neither role gcloud looks for
      `${project} roles/iam.serviceAccountTokenCreator serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`,
    ].sort();

    google = await standin(seed(true));
    bare = await standin(seed(false));
    fewer = await standin(seed(true));
    // Side by side: the first run, by an identity holding exactly the header's roles; a run on a project that
    // lacks the given account and the bucket; a run by an identity holding all those roles but one.
    [first, missing, refused] = await Promise.all([
      setup(dir, [], gcloudEnv(google)), setup(dir, [], gcloudEnv(bare)), setup(dir, [], gcloudEnv(fewer, ADMIN_MINUS)),
    ]);
    firstRequests = google.requests();
  }, 600_000);

  afterAll(async () => {
    await google?.stop();
    await bare?.stop();
    await fewer?.stop();
  });

  it('a first run, by an identity holding exactly the roles in the script\'s header, sets up everything, printing each change', () => {
    expect(headerRoles.sort()).toEqual([
      'roles/artifactregistry.admin', 'roles/cloudbuild.builds.editor', 'roles/iam.roleAdmin', 'roles/iam.serviceAccountAdmin',
      'roles/iam.serviceAccountUser', 'roles/pubsub.editor', 'roles/resourcemanager.projectIamAdmin', 'roles/run.admin',
      'roles/serviceusage.serviceUsageAdmin', 'roles/storage.admin',
    ]);
    expect(first.status, show(first)).toBe(0);
    expect(firstRequests.filter((r) => r.rpc === null), 'requests the stand-in has no route for').toEqual([]);
    expect(firstRequests.filter((r) => r.status === 403), 'refused requests').toEqual([]);
    expect(new Set(firstRequests.map((r) => r.identity))).toEqual(new Set([ADMIN]));
    const lines = first.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^setup-gcp: \d+ change\(s\) made$/);
    expect(first.stdout).not.toMatch(/nothing to change/);
    console.log(`setup-gcp.sh, first run: ${first.seconds.toFixed(1)} s, ${firstRequests.length} requests`);
  });

  it('with one of those roles missing, it stops at the first call that needs it, saying which permission and where the roles are listed', () => {
    expect(refused.status, show(refused)).toBe(1);
    expect(refused.stderr).toContain("Permission 'iam.serviceAccounts.create' denied");
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(
      `setup-gcp: could not finish creating the service account ${buildAccount}: the account running this lacks Permission 'iam.serviceAccounts.create' (403); a non-owner needs every role listed at the top of scripts/setup-gcp.sh.`,
    );
    expect(fewer.requests().filter((r) => r.rpc === 'serviceAccounts.create').map((r) => r.status)).toEqual([403]);
  });

  it('enables exactly the missing APIs, in one call', () => {
    const enables = [...rpcs(firstRequests, 'services.batchEnable'), ...rpcs(firstRequests, 'services.enable')];
    expect(enables).toHaveLength(1);
    const enabled = seed(true).services as Record<string, string[]>;
    expect([...(enables[0].body as { serviceIds: string[] }).serviceIds].sort()).toEqual(requiredApis.filter((a) => !enabled[PROJECT].includes(a)));
  });

  it('creates the Python repository in the multi-region us, a PyPI remote repository and the virtual one over both, the private one first; and the functions\' Docker repository in their region', () => {
    const creates = rpcs(firstRequests, 'repositories.create');
    expect(creates).toHaveLength(4);
    expect(creates.map((c) => c.path)).toEqual([...Array(3).fill(`/v1/projects/${PROJECT}/locations/us/repositories`), `/v1/projects/${PROJECT}/locations/us-east4/repositories`]);
    expect(creates.map((c) => (c.query as { repositoryId: string }).repositoryId)).toEqual(['py-internal', 'py-internal-pypi', 'py-internal-index', 'py-internal-functions']);
    expect(creates[3].body).toMatchObject({ format: 'DOCKER' });
    expect(creates[0].body).toMatchObject({ format: 'PYTHON' });
    expect(creates[1].body).toMatchObject({ format: 'PYTHON', mode: 'REMOTE_REPOSITORY', remoteRepositoryConfig: { pythonRepository: { publicRepository: 'PYPI' } } });
    const repo = (id: string) => `projects/${PROJECT}/locations/us/repositories/${id}`;
    expect(creates[2].body).toMatchObject({
      format: 'PYTHON', mode: 'VIRTUAL_REPOSITORY',
      virtualRepositoryConfig: { upstreamPolicies: [{ id: 'private', repository: repo('py-internal'), priority: 100 }, { id: 'pypi', repository: repo('py-internal-pypi'), priority: 10 }] },
    });
    expect(creates.every((c) => c.changed)).toBe(true);
  });

  it('creates one account per job, each marked as this repository\'s; a given account is only checked', () => {
    const created = rpcs(firstRequests, 'serviceAccounts.create').map((r) => {
      expect(r.status).toBe(200);
      const body = r.body as { accountId: string; serviceAccount: { description: string } };
      expect(body.serviceAccount.description).toMatch(/^generator-arpypi, for acme\/mono: /);
      return `${body.accountId}@${PROJECT}.iam.gserviceaccount.com`;
    });
    const dedicated = Object.values(runtimeAccounts).filter((a) => a !== WORKER);
    expect(created.sort()).toEqual([buildAccount, prAccount, fnBuildAccount, ...dedicated, ...Object.values(triggerAccounts)].sort());
    expect(dedicated.sort()).toEqual([`fn-api@${PROJECT}.iam.gserviceaccount.com`, `fn-on-upload@${PROJECT}.iam.gserviceaccount.com`]);
    expect(Object.values(triggerAccounts).sort()).toEqual([`ev-on-order@${PROJECT}.iam.gserviceaccount.com`, `ev-on-upload@${PROJECT}.iam.gserviceaccount.com`]);
  });

  it('adds exactly the expected role bindings, each once, one policy write per resource, and removes none', () => {
    const before = { [`projects/${PROJECT}`]: triples(`projects/${PROJECT}`, ownerPolicy()) };
    const { added, removed } = bindingChanges(firstRequests, before);
    expect(added).toEqual(expectedBindings);
    expect(removed).toEqual([]);
    const writes = firstRequests.filter((r) => r.rpc?.endsWith('.setIamPolicy'));
    expect(writes).toHaveLength(new Set(expectedBindings.map((b) => b.split(' ')[0])).size);
    expect(writes.every((r) => r.changed)).toBe(true);
    // The stand-in's final state agrees.
    const state = JSON.parse(readFileSync(path.join(google.dataDir, 'state.json'), 'utf8')) as { iamPolicies: Record<string, Parameters<typeof triples>[1]> };
    const all = Object.entries(state.iamPolicies).flatMap(([resource, policy]) => triples(resource, policy)).sort();
    expect(all).toEqual([...before[`projects/${PROJECT}`], ...expectedBindings].sort());
    // Project-wide and unconditionally, only the trigger identities may invoke (Cloud Run reads no condition, and a
    // function's service does not exist before its first deploy); nobody sets Cloud Run policies (no function here is
    // public), deploys Cloud Run services, or uploads or deletes artifacts.
    const broad = all.filter((b) => b.startsWith(`projects/${PROJECT} `) && !b.includes(' if ')
      && /roles\/(run\.(admin|invoker|developer)|cloudfunctions\.(developer|admin)|artifactregistry\.(writer|repoAdmin|admin)|cloudbuild\.builds\.builder|storage\.admin)|arpypiInvokerPolicy/.test(b)
      && !b.includes('user:'));
    expect(broad).toEqual(Object.values(triggerAccounts).map((a) => `projects/${PROJECT} roles/run.invoker serviceAccount:${a}`).sort());
  });

  it('creates the custom deployer role with only what gcloud functions deploy checks', () => {
    const creates = rpcs(firstRequests, 'roles.create');
    expect(creates.map((r) => r.body)).toEqual([expect.objectContaining({
      roleId: 'arpypiFunctionDeployer',
      role: expect.objectContaining({ includedPermissions: [
        'cloudfunctions.functions.create', 'cloudfunctions.functions.get', 'cloudfunctions.functions.sourceCodeSet',
        'cloudfunctions.functions.update', 'cloudfunctions.operations.get', 'resourcemanager.projects.get',
      ] }),
    })]);
  });

  it('creates the topic, checks the bucket, and creates no bucket', () => {
    const topics = rpcs(firstRequests, 'topics.create');
    expect(topics.map((r) => r.path)).toEqual([`/v1/projects/${PROJECT}/topics/orders`]);
    expect(rpcs(firstRequests, 'buckets.get').map((r) => [r.path, r.status])).toEqual([[`/storage/v1/b/${BUCKET}`, 200]]);
    expect(rpcs(firstRequests, 'buckets.insert')).toEqual([]);
  });

  it('imports every trigger file as written, tag included, in the global region', () => {
    const names = triggers.map((t) => t.name);
    expect(names.sort()).toEqual(['fn-api', 'fn-on-order', 'fn-on-upload', 'package-release', 'pull-request-checks']);
    const written = firstRequests.filter((r) => (r.rpc === 'triggers.create' || r.rpc === 'triggers.patch') && r.status === 200);
    expect(written.map((r) => (r.body as { name: string }).name).sort()).toEqual(names.sort());
    for (const t of triggers) {
      const request = written.find((r) => (r.body as { name: string }).name === t.name)!;
      expect(request.path).toMatch(new RegExp(`^/v1/projects/${PROJECT}/locations/global/triggers`));
      expect(request.body).toMatchObject({ ...t.body, tags: [t.tag] });
    }
    expect(rpcs(firstRequests, 'triggers.list').map((r) => r.path)).toEqual([`/v1/projects/${PROJECT}/locations/global/triggers`]);
  });

  it('a second run, from a subfolder, makes no change and says so, in fewer gcloud calls than 0.2.0 made (19)', async () => {
    // Every gcloud the script starts, counted by a gcloud on PATH that logs, then runs the real one.
    const shims = tempDir('gcloud-count');
    const log = path.join(shims, 'calls');
    const real = ok('bash', ['-c', 'command -v gcloud']).stdout.trim();
    writeFileSync(path.join(shims, 'gcloud'), `#!/bin/sh\necho "$*" >>${JSON.stringify(log)}\nexec ${JSON.stringify(real)} "$@"\n`, { mode: 0o755 });
    const env = gcloudEnv(google);
    const again = await setup(dir, [], { ...env, PATH: `${shims}:${env.PATH}` }, path.join(dir, 'functions/api'));
    expect(again.status, show(again)).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.length, calls.join('\n')).toBeLessThan(19);
    const requests = google.requests().slice(firstRequests.length);
    expect(requests.filter((r) => r.mutating), 'write requests of the second run').toEqual([]);
    expect(requests.filter((r) => r.rpc === null)).toEqual([]);
    expect(again.stdout.trim().split('\n').slice(-2)).toEqual(['setup-gcp: prune: nothing that earlier runs made is stale', 'setup-gcp: nothing to change']);
    for (const t of triggers) expect(again.stdout).toContain(`setup-gcp: trigger ${t.name}: unchanged (${t.tag})`);
    console.log(`setup-gcp.sh, second run: ${again.seconds.toFixed(1)} s, ${calls.length} gcloud calls, ${requests.length} requests`);
  }, 300_000);

  it('after a function is removed, token mode gives way to native and GitHub App triggers to a connection: a run lists what is stale and leaves it, --dry-run --prune lists the removals, --prune removes exactly those', async () => {
    // Three runs, on the project as the first run left it. 1: the repository without on-upload, in token
    // mode, its triggers now on a Cloud Build connection (2nd gen): the run stops at the connection until a
    // person authorises Cloud Build on GitHub; then it adds the reader, links the repository, imports the
    // triggers in the functions region, and lists (and keeps) what on-upload, native mode and the global
    // GitHub App triggers had.
    // As the project's owner: the connection needs a role the first repository's header did not list.
    const stateFile = path.join(google.dataDir, 'state.json');
    const bindings = (st: State) => Object.entries(st.iamPolicies).flatMap(([r, p]) => triples(r, p));
    const load = () => JSON.parse(readFileSync(stateFile, 'utf8')) as State;
    const project = `projects/${PROJECT}`;
    const ev = triggerAccounts['on-upload'];
    const fn = runtimeAccounts['on-upload'];
    const reader = `arpypi-reader@${PROJECT}.iam.gserviceaccount.com`;
    const connection = `${project}/locations/us-east4/connections/arpypi-github`;
    // Every GitHub App trigger the first run imported (1st gen, global) is stale once the triggers are on the connection.
    const oldTriggers = triggers.map((t) => t.name).sort();
    const token = tempDir('setup-gcp-token');
    await runApp(token, { ...APP_OPTIONS, auth: 'token', triggers: 'connection' });
    await runFunction(token, 'on-order', MORE[0].options);
    const before = load();
    const waiting = await setup(token, [], gcloudEnv(google, OWNER));
    expect(waiting.status, show(waiting)).toBe(1);
    expect(waiting.stdout).toMatch(/^setup-gcp: one step is yours, in a browser: open https:\/\/\S+ in a browser, sign in to GitHub as an owner of acme, authorise Cloud Build, and install the Cloud Build GitHub App on acme\/mono\.$/m);
    expect(waiting.stderr.trim().split('\n').at(-1)).toBe('setup-gcp: stopped before the rest of the set-up (the repository link, repositories, accounts, roles, triggers): run bash scripts/setup-gcp.sh again once that step is done.');
    // The person's step comes first: before it, the run only enabled what the connection needs and let Cloud Build's agent keep its tokens.
    expect(waiting.stdout).not.toMatch(/creating the service account|importing/);
    await completeGithubConnection(google, connection, ['acme/mono']);
    const toToken = await setup(token, [], gcloudEnv(google, OWNER));
    expect(toToken.status, show(toToken)).toBe(0);
    expect(toToken.stdout).toContain(`setup-gcp: linking https://github.com/acme/mono.git as mono on arpypi-github`);
    const kept = toToken.stdout.split('\n').filter((l) => l.includes('stale, kept')).map((l) => l.replace('setup-gcp: stale, kept (run with --prune to remove): ', ''));
    expect(kept.sort()).toEqual([
      `roles/eventarc.eventReceiver on project ${PROJECT} for serviceAccount:${ev}`,
      `roles/run.invoker on project ${PROJECT} for serviceAccount:${ev}`,
      ...oldTriggers.map((t) => `the trigger ${t} in global`),
      `the service account ${ev}`,
      `the service account ${fn}`,
    ].sort());
    const mid = load();
    const readerBindings = [
      `${indexName} roles/artifactregistry.reader serviceAccount:${reader}`,
      `${project}/serviceAccounts/${reader} roles/iam.serviceAccountTokenCreator serviceAccount:${buildAccount}`,
    ].sort();
    // The connection's: Cloud Build's agent keeps the tokens in Secret Manager (Google grants it its own role when
    // it makes the agent); the triggers' accounts fetch the source through the connection.
    const agent = `serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-cloudbuild.iam.gserviceaccount.com`;
    const connectionBindings = [
      `${project} roles/secretmanager.admin ${agent}`,
      `${project} roles/cloudbuild.serviceAgent ${agent}`,
      `${connection} roles/cloudbuild.readTokenAccessor serviceAccount:${buildAccount}`,
      `${connection} roles/cloudbuild.readTokenAccessor serviceAccount:${prAccount}`,
    ];
    expect(bindings(mid).filter((b) => !bindings(before).includes(b)).sort()).toEqual([...readerBindings, ...connectionBindings].sort());
    expect(Object.keys(mid.triggers).filter((t) => !(t in before.triggers)).sort()).toEqual(
      ['fn-api', 'fn-on-order', 'package-release', 'pull-request-checks'].map((t) => `${project}/locations/us-east4/triggers/${t}`));
    expect(bindings(before).filter((b) => !bindings(mid).includes(b))).toEqual([]);

    // 2: the same without on-upload, back in native mode: --dry-run --prune reads, prints the removals, changes nothing.
    const native = tempDir('setup-gcp-native');
    await runApp(native, { ...APP_OPTIONS, triggers: 'connection' });
    await runFunction(native, 'on-order', MORE[0].options);
    const dry = await setup(native, ['--dry-run', '--prune'], gcloudEnv(google, OWNER));
    expect(dry.status, show(dry)).toBe(0);
    const removals = dry.stdout.split('# == Prune')[1].trim().split('\n').slice(1);
    expect(removals.sort()).toEqual([
      `gcloud artifacts repositories remove-iam-policy-binding py-internal-index --location=us --project=${PROJECT} --member=serviceAccount:${reader} --role=roles/artifactregistry.reader --condition=None --format=none  # change`,
      ...oldTriggers.map((t) => `gcloud builds triggers delete ${t} --project=${PROJECT} --region=global --quiet  # change`),
      `gcloud iam service-accounts delete ${ev} --project=${PROJECT} --quiet  # change`,
      `gcloud iam service-accounts delete ${fn} --project=${PROJECT} --quiet  # change`,
      `gcloud iam service-accounts delete ${reader} --project=${PROJECT} --quiet  # change`,
      `gcloud projects remove-iam-policy-binding ${PROJECT} --member=serviceAccount:${ev} --role=roles/eventarc.eventReceiver --condition=None --format=none  # change`,
      `gcloud projects remove-iam-policy-binding ${PROJECT} --member=serviceAccount:${ev} --role=roles/run.invoker --condition=None --format=none  # change`,
    ].sort());
    expect(load()).toEqual(mid);

    // 3: --prune removes exactly those: accounts, their bindings, the trigger; nothing else changes.
    const pruned = await setup(native, ['--prune'], gcloudEnv(google, OWNER));
    expect(pruned.status, show(pruned)).toBe(0);
    expect(pruned.stdout).not.toContain('stale, kept');
    const after = load();
    expect(Object.keys(mid.serviceAccounts).filter((a) => !(a in after.serviceAccounts)).sort()).toEqual([ev, fn, reader].sort());
    expect(Object.keys(mid.triggers).filter((t) => !(t in after.triggers)).sort()).toEqual(oldTriggers.map((t) => `${project}/locations/global/triggers/${t}`));
    expect(bindings(mid).filter((b) => !bindings(after).includes(b)).sort()).toEqual([
      `${project} roles/eventarc.eventReceiver serviceAccount:${ev}`,
      `${project} roles/run.invoker serviceAccount:${ev}`,
      `${project}/serviceAccounts/${ev} roles/iam.serviceAccountUser serviceAccount:${buildAccount}`,
      `${project}/serviceAccounts/${fn} roles/iam.serviceAccountUser serviceAccount:${buildAccount}`,
      ...readerBindings,
    ].sort());
    expect(bindings(after).filter((b) => !bindings(mid).includes(b))).toEqual([]);
    console.log(`setup-gcp.sh: token run ${toToken.seconds.toFixed(1)} s, --dry-run --prune ${dry.seconds.toFixed(1)} s, --prune ${pruned.seconds.toFixed(1)} s`);
  }, 400_000);

  it('stops before creating anything when a given account or a bucket is missing, naming both', () => {
    expect(missing.status, show(missing)).toBe(1);
    expect(missing.stderr).toContain(`the function on-order runs as ${WORKER} (given with --service-account), which does not exist`);
    expect(missing.stderr).toContain(`the function on-upload is triggered by the bucket gs://${BUCKET}, which does not exist`);
    const writes = bare.requests().filter((r) => r.mutating).map((r) => r.rpc);
    expect(writes).toEqual(['services.batchEnable']);
  });

  it('--dry-run makes no request and runs no gcloud, and prints, section by section, every command a fresh project needs, each marked read or change', async () => {
    const fresh = await standin(seed(true));
    try {
      // A gcloud that leaves a mark, first on PATH.
      const bin = tempDir('gcloud-mark');
      const mark = path.join(bin, 'called');
      writeFileSync(path.join(bin, 'gcloud'), `#!/bin/sh\necho "$@" >>'${mark}'\nexit 1\n`);
      chmodSync(path.join(bin, 'gcloud'), 0o755);
      const dry = await setup(dir, ['--dry-run'], { ...gcloudEnv(fresh), PATH: `${bin}:${process.env.PATH}` });
      expect(dry.status, show(dry)).toBe(0);
      expect(fresh.requests()).toEqual([]);
      expect(existsSync(mark)).toBe(false);

      const lines = dry.stdout.trim().split('\n').filter(Boolean);
      const headings = lines.filter((l) => l.startsWith('# == ')).map((l) => l.replace(/^# == (.*?)(:.*)? ==$/, '$1'));
      expect(headings).toEqual(['APIs', 'Prerequisites', 'Repositories', 'Accounts', 'Topics', 'Roles', 'Invokers', 'Triggers', 'Prune']);
      const commands = lines.filter((l) => !l.startsWith('#'));
      for (const line of commands) expect(line).toMatch(/^(gcloud |\{ cat |\{ printf ).*  # (read|change)$/);
      const strip = (l: string) => l.replace(/ {2}# (read|change)$/, '');
      const changes = commands.filter((l) => l.endsWith('# change')).map(strip);
      const reads = commands.filter((l) => l.endsWith('# read')).map(strip);
      expect(changes).toContain(`gcloud services enable ${['artifactregistry', 'cloudbuild', 'cloudfunctions', 'run', 'iam', 'logging', 'pubsub', 'eventarc', 'storage'].map((a) => `${a}.googleapis.com`).join(' ')} --project=${PROJECT}`);
      // each repository read once, as its policy (the roles need it anyway), and no listing
      expect(reads.filter((r) => r.startsWith('gcloud artifacts repositories '))).toEqual(
        [['us', 'py-internal'], ['us', 'py-internal-pypi'], ['us', 'py-internal-index'], ['us-east4', 'py-internal-functions']]
          .map(([where, id]) => `gcloud artifacts repositories get-iam-policy ${id} --location=${where} --project=${PROJECT} --format=json`));
      expect(changes.some((c) => c.startsWith(`gcloud artifacts repositories create py-internal --repository-format=python --location=us --project=${PROJECT} `))).toBe(true);
      for (const c of reads) expect(c, 'a read that changes').not.toMatch(/ (create|enable|add-iam-policy-binding|import|delete) /);
      // The bindings it would add are the expected set (the project number is not known without asking).
      const bindings = changes.filter((c) => c.includes(' add-iam-policy-binding ')).map((c) => {
        const words = c.match(/(?:[^\s']+|'[^']*')+/g)!.map((w) => w.replace(/'/g, ''));
        const value = (f: string) => words.find((w) => w.startsWith(`--${f}=`))!.slice(f.length + 3);
        const resource = words[1] === 'projects' ? `projects/${words[3]}`
          : words[1] === 'artifacts' ? `projects/${value('project')}/locations/${value('location')}/repositories/${words[4]}`
          : `projects/${PROJECT}/serviceAccounts/${words[4]}`;
        const condition = value('condition');
        return `${resource} ${value('role')} ${value('member')}${condition === 'None' ? '' : ` if ${condition.replace(/^expression=/, '').replace(/,title=.*$/, '')}`}`;
      });
      expect(bindings.sort()).toEqual(expectedBindings.map((b) => b.replaceAll(PROJECT_NUMBER, 'PROJECT_NUMBER')).sort());
      // The import line feeds every trigger file, joined into one YAML stream.
      const importLine = changes.find((c) => c.includes('gcloud builds triggers import'))!;
      expect(importLine).toMatch(/\| gcloud builds triggers import --source=\/dev\/stdin --project=acme-setup-1 --region=global --format=none$/);
      const stream = ok('bash', ['-c', importLine.replace(/\| gcloud .*$/, '')], { cwd: dir }).stdout;
      expect(parseAllDocuments(stream).map((d) => (d.toJS() as { name: string }).name).sort()).toEqual(triggers.map((t) => t.name).sort());
      expect(dry.stderr).toMatch(/setup-gcp: dry run: \d+ read\(s\) and \d+ change\(s\) printed; none was run\./);
    } finally {
      await fresh.stop();
    }
  });

  it('a trigger file edited by hand is imported with the tag of its new content, so that it settles too', async () => {
    const file = path.join(dir, 'triggers/fn-api.yaml');
    const original = readFileSync(file, 'utf8');
    try {
      const [body, tagBlock] = original.split(/(?=^tags:\n)/m);
      expect(tagBlock).toMatch(/^tags:\n {2}- arpypi-[0-9a-f]{12}\n$/);
      const edited = body.replace(/^description: .*$/m, 'description: Deploy api, edited by hand');
      writeFileSync(file, edited + tagBlock);
      const dry = await setup(dir, ['--dry-run'], process.env);
      expect(dry.status, show(dry)).toBe(0);
      const importLine = dry.stdout.trim().split('\n').find((c) => c.includes('gcloud builds triggers import'))!;
      const docs = parseAllDocuments(ok('bash', ['-c', importLine.replace(/\| gcloud .*$/, '')], { cwd: dir }).stdout).map((d) => d.toJS() as { name: string; tags: string[]; description: string });
      const want = `arpypi-${createHash('sha256').update(edited).digest('hex').slice(0, 12)}`;
      expect(docs.find((d) => d.name === 'fn-api')).toMatchObject({ description: 'Deploy api, edited by hand', tags: [want] });
      for (const t of triggers.filter((x) => x.name !== 'fn-api')) expect(docs.find((d) => d.name === t.name)?.tags).toEqual([t.tag]);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('--help prints the usage; an unknown argument gets one sentence and exit 2', () => {
    const help = run('bash', [path.join(dir, 'scripts/setup-gcp.sh'), '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: scripts\/setup-gcp.sh \[--dry-run\] \[--prune\] \| --help/);
    const bad = run('bash', [path.join(dir, 'scripts/setup-gcp.sh'), '--force']);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe("setup-gcp: unknown argument '--force'; the options are --dry-run, --prune and --help.\n");
  });

  it('passes shellcheck and bakes every answer in quoted', () => {
    ok(which('shellcheck'), ['--severity=style', path.join(dir, 'scripts/setup-gcp.sh')]);
    const script = read(dir, 'scripts/setup-gcp.sh');
    expect(script).toContain(`project='${PROJECT}'`);
    expect(script).toContain(`location='us'`);
    expect(script).toContain(`add_function 'on-order' 'topic' 'orders' '${WORKER}' 'order-worker' given private 'ev-on-order@${PROJECT}.iam.gserviceaccount.com' 'ev-on-order'`);
    expect(statSync(path.join(dir, 'scripts/setup-gcp.sh')).mode & 0o111, 'executable').toBe(0o111);
    expect(script).not.toMatch(/set -x/);
  });
});

interface State {
  serviceAccounts: Record<string, unknown>;
  triggers: Record<string, unknown>;
  iamPolicies: Record<string, Parameters<typeof triples>[1]>;
}

/** Each trigger file: its name, its tag and its content without the tag. */
function readdirTriggers(dir: string): { file: string; name: string; tag: string; body: Record<string, unknown> }[] {
  const files = ok('bash', ['-c', 'ls triggers/*.yaml'], { cwd: dir }).stdout.trim().split('\n');
  return files.map((file) => {
    const { tags, ...body } = parse(read(dir, file)) as { name: string; tags: string[] } & Record<string, unknown>;
    expect(tags, `${file} tags`).toHaveLength(1);
    expect(tags[0]).toMatch(/^arpypi-[0-9a-f]{12}$/);
    return { file, name: String(body.name), tag: tags[0], body };
  });
}

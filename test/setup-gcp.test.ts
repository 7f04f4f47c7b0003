// scripts/setup-gcp.sh of a generated repository, run with the real bash and the real
// gcloud against the loopback stand-in of the Google APIs (test/standins/google_apis.py).
// What the project must end up with is derived here from the answers and from the
// files that use it (the deploy steps, the triggers), not from the script.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { read, runApp, runFunction, tempDir } from './support/generate.js';
import { startStandin, STANDINS } from './support/standins.js';
import type { RecordedRequest, Standin } from './support/standins.js';
import { ok, PYTHON, run, which } from './support/tools.js';

const PROJECT = 'acme-setup-1';
const PROJECT_NUMBER = '555000111222';
const WORKER = `order-worker@${PROJECT}.iam.gserviceaccount.com`;
const BUCKET = 'uploads-bucket';
const APP_OPTIONS = {
  projectId: PROJECT, region: 'us', functionRegion: 'us-east4', repository: 'py-internal', githubOwner: 'acme',
  githubRepo: 'mono', packageName: 'acme-utils', pythonVersion: '3.12', auth: 'native', function: 'api',
};
const MORE = [
  { name: 'on-order', options: { trigger: 'topic:orders', serviceAccount: WORKER } },
  { name: 'on-upload', options: { trigger: `bucket:${BUCKET}` } },
];
const FUNCTIONS = ['api', ...MORE.map((f) => f.name)];

/** A project as Google makes it: some APIs on, an owner, the default compute account; plus what the user made. */
const OWNER_POLICY = { version: 1, etag: 'ACAB', bindings: [{ role: 'roles/owner', members: ['user:owner@example.com'] }] };
function seed(withPrerequisites: boolean): Record<string, unknown> {
  const account = (email: string) => ({ name: `projects/${PROJECT}/serviceAccounts/${email}`, email, projectId: PROJECT, uniqueId: `1${email.length}` });
  const compute = `${PROJECT_NUMBER}-compute@developer.gserviceaccount.com`;
  return {
    projects: { [PROJECT]: { projectNumber: PROJECT_NUMBER } },
    services: { [PROJECT]: ['bigquery.googleapis.com', 'logging.googleapis.com', 'storage.googleapis.com', 'serviceusage.googleapis.com'] },
    iamPolicies: { [`projects/${PROJECT}`]: OWNER_POLICY },
    serviceAccounts: { [compute]: account(compute), ...(withPrerequisites ? { [WORKER]: account(WORKER) } : {}) },
    buckets: withPrerequisites ? { [BUCKET]: { location: 'US-EAST4', projectNumber: PROJECT_NUMBER } } : {},
  };
}

async function standin(state: Record<string, unknown> | null): Promise<Standin> {
  const dataDir = tempDir('setup-gcp-apis');
  if (state) writeFileSync(path.join(dataDir, 'state.json'), JSON.stringify(state));
  return startStandin('google_apis.py', [], dataDir);
}

function gcloudEnv(google: Standin): NodeJS.ProcessEnv {
  const json = ok(PYTHON, [path.join(STANDINS, 'gcloud_env.py'), '--port', String(google.port), '--project', PROJECT, '--config-dir', tempDir('gcloud-config'), '--json']).stdout;
  return { ...process.env, ...(JSON.parse(json) as Record<string, string>) };
}

interface Run { status: number | null; stdout: string; stderr: string; seconds: number }

/** Runs the script without blocking, so that two runs can overlap. */
function setup(dir: string, args: string[], env: NodeJS.ProcessEnv, cwd = dir): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(dir, 'scripts/setup-gcp.sh'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

const rpcs = (requests: RecordedRequest[], rpc: string) => requests.filter((r) => r.rpc === rpc);
const show = (r: Run) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** "RESOURCE ROLE MEMBER" for each member of each unconditional binding. */
function triples(resource: string, policy: { bindings?: { role: string; members: string[]; condition?: unknown }[] } | undefined): string[] {
  return (policy?.bindings ?? []).filter((b) => !b.condition).flatMap((b) => b.members.map((m) => `${resource} ${b.role} ${m}`));
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
  let first: Run;
  let missing: Run;
  let firstRequests: RecordedRequest[];

  // What the repository needs, from the answers and from the files that rely on it.
  let buildAccount: string;
  let fnBuildAccount: string;
  let runtimeAccounts: Record<string, string>;
  let triggers: { file: string; name: string; tag: string; body: Record<string, unknown> }[];
  let expectedBindings: string[];
  const requiredApis = [
    'artifactregistry', 'cloudbuild', 'cloudfunctions', 'run', 'iam', 'logging', // every repository
    'pubsub', 'eventarc', // topic and bucket functions
    'storage', // bucket functions
  ].map((a) => `${a}.googleapis.com`).sort();
  const repositoryName = `projects/${PROJECT}/locations/us/repositories/py-internal`;

  beforeAll(async () => {
    dir = tempDir('setup-gcp');
    await runApp(dir, APP_OPTIONS);
    for (const fn of MORE) await runFunction(dir, fn.name, fn.options);

    // The build account: the one every trigger names.
    triggers = readdirTriggers(dir);
    const accounts = new Set(triggers.map((t) => String(t.body.serviceAccount)));
    expect(accounts.size).toBe(1);
    buildAccount = [...accounts][0].replace(/^projects\/[^/]+\/serviceAccounts\//, '');
    // Each function's runtime account: the one its deploy step names.
    runtimeAccounts = Object.fromEntries(FUNCTIONS.map((name) => {
      const args: string[] = parse(read(dir, `functions/${name}/cloudbuild.yaml`)).steps.find((s: { id: string }) => s.id === 'deploy').args;
      const flag = args.find((a) => a.startsWith('--service-account='));
      expect(flag, `functions/${name}/cloudbuild.yaml names no --service-account`).toBeDefined();
      return [name, flag!.split('=')[1]];
    }));
    expect(runtimeAccounts['on-order']).toBe(WORKER);

    const build = `serviceAccount:${buildAccount}`;
    const eventDriven = ['on-order', 'on-upload'].map((n) => `serviceAccount:${runtimeAccounts[n]}`);
    // The function build account: the one every deploy step names.
    const fnBuildFlags = new Set(FUNCTIONS.map((name) => {
      const args: string[] = parse(read(dir, `functions/${name}/cloudbuild.yaml`)).steps.find((s: { id: string }) => s.id === 'deploy').args;
      return args.find((a) => a.startsWith('--build-service-account='))?.split('/').pop();
    }));
    expect(fnBuildFlags.size).toBe(1);
    fnBuildAccount = [...fnBuildFlags][0]!;
    const fnBuild = `serviceAccount:${fnBuildAccount}`;
    expectedBindings = [
      `${repositoryName} roles/artifactregistry.writer ${build}`,
      `projects/${PROJECT} projects/${PROJECT}/roles/arpypiInvokerPolicy ${build}`,
      `projects/${PROJECT}/serviceAccounts/${fnBuildAccount} roles/iam.serviceAccountUser ${build}`,
      `projects/${PROJECT} roles/cloudbuild.builds.builder ${fnBuild}`,
      // native mode: the function builds' pip reads the private package
      `${repositoryName} roles/artifactregistry.reader ${fnBuild}`,
      `projects/${PROJECT} roles/cloudfunctions.developer ${build}`,
      `projects/${PROJECT} roles/logging.logWriter ${build}`,
      ...Object.values(runtimeAccounts).map((a) => `projects/${PROJECT}/serviceAccounts/${a} roles/iam.serviceAccountUser ${build}`),
      ...eventDriven.flatMap((m) => [`projects/${PROJECT} roles/run.invoker ${m}`, `projects/${PROJECT} roles/eventarc.eventReceiver ${m}`]),
      `projects/${PROJECT} roles/pubsub.publisher serviceAccount:service-${PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com`,
    ].sort();

    google = await standin(seed(true));
    bare = await standin(seed(false));
    // The first run, and a run on a project that lacks the account and the bucket, side by side.
    [first, missing] = await Promise.all([setup(dir, [], gcloudEnv(google)), setup(dir, [], gcloudEnv(bare))]);
    firstRequests = google.requests();
  });

  afterAll(async () => {
    await google?.stop();
    await bare?.stop();
  });

  it('a first run sets up everything, printing each change', () => {
    expect(first.status, show(first)).toBe(0);
    expect(firstRequests.filter((r) => r.rpc === null), 'requests the stand-in has no route for').toEqual([]);
    const lines = first.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^setup-gcp: \d+ change\(s\) made$/);
    expect(first.stdout).not.toMatch(/nothing to change/);
    console.log(`setup-gcp.sh, first run: ${first.seconds.toFixed(1)} s, ${firstRequests.length} requests`);
  });

  it('enables exactly the missing APIs, in one call', () => {
    const enables = [...rpcs(firstRequests, 'services.batchEnable'), ...rpcs(firstRequests, 'services.enable')];
    expect(enables).toHaveLength(1);
    const enabled = seed(true).services as Record<string, string[]>;
    expect([...(enables[0].body as { serviceIds: string[] }).serviceIds].sort()).toEqual(requiredApis.filter((a) => !enabled[PROJECT].includes(a)));
  });

  it('creates the Python repository in the multi-region us, a PyPI remote repository and the virtual one over both, the private one first', () => {
    const creates = rpcs(firstRequests, 'repositories.create');
    expect(creates).toHaveLength(3);
    for (const c of creates) expect(c.path).toBe(`/v1/projects/${PROJECT}/locations/us/repositories`);
    expect(creates.map((c) => (c.query as { repositoryId: string }).repositoryId)).toEqual(['py-internal', 'py-internal-pypi', 'py-internal-index']);
    expect(creates[0].body).toMatchObject({ format: 'PYTHON' });
    expect(creates[1].body).toMatchObject({ format: 'PYTHON', mode: 'REMOTE_REPOSITORY', remoteRepositoryConfig: { pythonRepository: { publicRepository: 'PYPI' } } });
    const repo = (id: string) => `projects/${PROJECT}/locations/us/repositories/${id}`;
    expect(creates[2].body).toMatchObject({
      format: 'PYTHON', mode: 'VIRTUAL_REPOSITORY',
      virtualRepositoryConfig: { upstreamPolicies: [{ id: 'private', repository: repo('py-internal'), priority: 100 }, { id: 'pypi', repository: repo('py-internal-pypi'), priority: 10 }] },
    });
    expect(creates.every((c) => c.changed)).toBe(true);
  });

  it('creates exactly the build account and the dedicated runtime accounts; a given account is only checked', () => {
    const created = rpcs(firstRequests, 'serviceAccounts.create').map((r) => {
      expect(r.status).toBe(200);
      return `${(r.body as { accountId: string }).accountId}@${PROJECT}.iam.gserviceaccount.com`;
    });
    const dedicated = Object.values(runtimeAccounts).filter((a) => a !== WORKER);
    expect(created.sort()).toEqual([buildAccount, fnBuildAccount, ...dedicated].sort());
    expect(dedicated.sort()).toEqual([`fn-api@${PROJECT}.iam.gserviceaccount.com`, `fn-on-upload@${PROJECT}.iam.gserviceaccount.com`]);
  });

  it('adds exactly the expected role bindings, each once, and removes none', () => {
    const before = { [`projects/${PROJECT}`]: triples(`projects/${PROJECT}`, OWNER_POLICY) };
    const { added, removed } = bindingChanges(firstRequests, before);
    expect(added).toEqual(expectedBindings);
    expect(removed).toEqual([]);
    // add-iam-policy-binding only for what was missing: every policy write changed something.
    const writes = firstRequests.filter((r) => r.rpc?.endsWith('.setIamPolicy'));
    expect(writes).toHaveLength(expectedBindings.length);
    expect(writes.every((r) => r.changed)).toBe(true);
    // The stand-in's final state agrees.
    const state = JSON.parse(readFileSync(path.join(google.dataDir, 'state.json'), 'utf8')) as { iamPolicies: Record<string, Parameters<typeof triples>[1]> };
    const all = Object.entries(state.iamPolicies).flatMap(([resource, policy]) => triples(resource, policy)).sort();
    expect(all).toEqual([...before[`projects/${PROJECT}`], ...expectedBindings].sort());
  });

  it('creates the custom invoker-policy role with only its two permissions', () => {
    const creates = rpcs(firstRequests, 'roles.create');
    expect(creates).toHaveLength(1);
    expect(creates[0].body).toMatchObject({
      roleId: 'arpypiInvokerPolicy',
      role: { includedPermissions: ['run.services.getIamPolicy', 'run.services.setIamPolicy'] },
    });
  });

  it('creates the topic, checks the bucket, and creates no bucket', () => {
    const topics = rpcs(firstRequests, 'topics.create');
    expect(topics.map((r) => r.path)).toEqual([`/v1/projects/${PROJECT}/topics/orders`]);
    expect(rpcs(firstRequests, 'buckets.get').map((r) => [r.path, r.status])).toEqual([[`/storage/v1/b/${BUCKET}`, 200]]);
    expect(rpcs(firstRequests, 'buckets.insert')).toEqual([]);
  });

  it('imports every trigger file as written, tag included', () => {
    const names = triggers.map((t) => t.name);
    expect(names.sort()).toEqual(['fn-api', 'fn-on-order', 'fn-on-upload', 'package-release', 'pull-request-checks']);
    const written = firstRequests.filter((r) => (r.rpc === 'triggers.create' || r.rpc === 'triggers.patch') && r.status === 200);
    expect(written.map((r) => (r.body as { name: string }).name).sort()).toEqual(names.sort());
    for (const t of triggers) {
      const body = written.find((r) => (r.body as { name: string }).name === t.name)!.body as Record<string, unknown>;
      expect(body).toMatchObject({ ...t.body, tags: [t.tag] });
    }
  });

  it('a second run, from a subfolder, makes no change and says so', async () => {
    const again = await setup(dir, [], gcloudEnv(google), path.join(dir, 'functions/api'));
    expect(again.status, show(again)).toBe(0);
    const requests = google.requests().slice(firstRequests.length);
    expect(requests.filter((r) => r.mutating), 'write requests of the second run').toEqual([]);
    expect(requests.filter((r) => r.rpc === null)).toEqual([]);
    expect(again.stdout.trim().split('\n').at(-1)).toBe('setup-gcp: nothing to change');
    for (const t of triggers) expect(again.stdout).toContain(`setup-gcp: trigger ${t.name}: unchanged (${t.tag})`);
    console.log(`setup-gcp.sh, second run: ${again.seconds.toFixed(1)} s, ${requests.length} requests`);
  });

  it('stops before creating anything when a given account or a bucket is missing, naming both', () => {
    expect(missing.status, show(missing)).toBe(1);
    expect(missing.stderr).toContain(`the function on-order runs as ${WORKER} (given with --service-account), which does not exist`);
    expect(missing.stderr).toContain(`the function on-upload is triggered by the bucket gs://${BUCKET}, which does not exist`);
    const writes = bare.requests().filter((r) => r.mutating).map((r) => r.rpc);
    expect(writes).toEqual(['services.batchEnable']);
  });

  it('--dry-run makes no request and runs no gcloud, and prints every command a fresh project needs', async () => {
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

      const commands = dry.stdout.trim().split('\n');
      for (const line of commands) expect(line).toMatch(/^(gcloud |\{ cat |\{ printf )/);
      expect(commands).toContain(`gcloud services enable ${['artifactregistry', 'cloudbuild', 'cloudfunctions', 'run', 'iam', 'logging', 'pubsub', 'eventarc', 'storage'].map((a) => `${a}.googleapis.com`).join(' ')} --project=${PROJECT}`);
      expect(commands).toContain(`gcloud artifacts repositories describe py-internal --location=us --project=${PROJECT} --format='value(name)'`);
      expect(commands.some((c) => c.startsWith(`gcloud artifacts repositories create py-internal --repository-format=python --location=us --project=${PROJECT} `))).toBe(true);
      // The bindings it would add are the expected set (the project number is not known without asking).
      const bindings = commands.filter((c) => c.includes(' add-iam-policy-binding ')).map((c) => {
        const words = c.split(' ');
        const value = (flag: string) => words.find((w) => w.startsWith(`--${flag}=`))!.slice(flag.length + 3);
        const resource = words[1] === 'projects' ? `projects/${words[3]}`
          : words[1] === 'artifacts' ? `projects/${value('project')}/locations/${value('location')}/repositories/${words[4]}`
          : `projects/${PROJECT}/serviceAccounts/${words[4]}`;
        return `${resource} ${value('role')} ${value('member')}`;
      });
      expect(bindings.sort()).toEqual(expectedBindings.map((b) => b.replace(PROJECT_NUMBER, 'PROJECT_NUMBER')).sort());
      // The import line feeds every trigger file, joined into one YAML stream.
      const importLine = commands.find((c) => c.includes('gcloud builds triggers import'))!;
      expect(importLine).toMatch(/\| gcloud builds triggers import --source=\/dev\/stdin --project=acme-setup-1 --format=none$/);
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
    expect(help.stdout).toMatch(/^Usage: scripts\/setup-gcp.sh \[--dry-run \| --help\]/);
    const bad = run('bash', [path.join(dir, 'scripts/setup-gcp.sh'), '--force']);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe("setup-gcp: unknown argument '--force'; the options are --dry-run and --help.\n");
  });

  it('passes shellcheck and bakes every answer in quoted', () => {
    ok(which('shellcheck'), ['--severity=style', path.join(dir, 'scripts/setup-gcp.sh')]);
    const script = read(dir, 'scripts/setup-gcp.sh');
    expect(script).toContain(`project='${PROJECT}'`);
    expect(script).toContain(`location='us'`);
    expect(script).toContain(`add_function 'on-order' 'topic' 'orders' '${WORKER}' 'order-worker' given`);
    expect(statSync(path.join(dir, 'scripts/setup-gcp.sh')).mode & 0o111, 'executable').toBe(0o111);
    expect(script).not.toMatch(/set -x/);
  });
});

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

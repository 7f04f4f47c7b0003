// The generated repository end to end (test/e2e-github.test.ts, test/e2e-gitlab.test.ts): scripts/setup-gcp.sh sets up a stand-in project,
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
//
// Supply chain: pip reads one index, the virtual repository over the private one and a
// PyPI remote; a stranger's versions of the package's name on the stand-in's PyPI never
// reach a function; a deploy waits for the version its push releases; Python 3.14
// functions build with pip, the installer that gets the repository's credentials.
import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveSubstitutions, runBuild, runBuildAsync } from './cloudbuild.js';
import type { BuildResult, BuildRun } from './cloudbuild.js';
import { generate, listFiles, read, ROOT, tempDir } from './generate.js';
import type { Combo } from './generate.js';
import { completeGithubConnection, deliverEventSync, gcloudEnvFor, iamChecks, runSetup, startStandin, STANDINS, tokenFile, tokenFor } from './standins.js';
import type { RepositoryEvent } from './standins.js';
import type { IamCheck, Standin } from './standins.js';
import { pythonEnv } from './python.js';
import { ok, PYTHON, requirePython, run } from './tools.js';

/** Plays python in build steps: the step's PYTHONPATH first, then the test's tools (test/tools/python3-for-steps). */
const STEP_PYTHON = path.resolve(import.meta.dirname, '../tools/python3-for-steps');
/** What the steps' Python finds after a step's own PYTHONPATH: setuptools >= 77, ruff, the keyring stand-in (test/support/python.ts). */
const STEP_ENV = (({ PYTHONPATH, ARPYPI_NODE, ARPYPI_TOML_PYTHON, NO_COLOR, MYPY_FORCE_COLOR, MYPY_CACHE_DIR }) => ({
  ARPYPI_TEST_PYTHON: PYTHON, ARPYPI_TEST_PYTHONPATH: PYTHONPATH, ARPYPI_NODE, ARPYPI_TOML_PYTHON, NO_COLOR, MYPY_FORCE_COLOR, MYPY_CACHE_DIR,
}))(pythonEnv([path.join(STANDINS, 'keyring_backend')])) as Record<string, string>;
/** Debian's twine reading the Metadata-Version 2.4 that setuptools >= 77 writes (test/tools/python/sitecustomize.py). */
const TWINE_ENV = { PYTHONPATH: STEP_ENV.ARPYPI_TEST_PYTHONPATH };

const PROJECT = 'acme-e2e-1';
const PROJECT_NUMBER = '123456789012';
/** The repositories of the index layout, as setup-gcp.sh names them. */
const PRIVATE = 'py-e2e';
const REMOTE = 'py-e2e-pypi';
const VIRTUAL = 'py-e2e-index';
const REPOSITORY = `projects/${PROJECT}/locations/europe-west1/repositories/${PRIVATE}`;
const INDEX_REPOSITORY = `projects/${PROJECT}/locations/europe-west1/repositories/${VIRTUAL}`;
/** The functions' images, as the deploys name it (--docker-repository). */
const IMAGES_REPOSITORY = `projects/${PROJECT}/locations/europe-west1/repositories/py-e2e-functions`;
/** What every function's requirements pin, so that the buildpack adds none of its own. */
const FUNCTIONS_FRAMEWORK = '3.10.2';
/** The package as PyPI names it (PEP 503). */
const PROJECT_NAME = 'acme-e2e-utils';
const OWNER = 'user:owner@example.com';
const sa = (id: string) => `serviceAccount:${id}@${PROJECT}.iam.gserviceaccount.com`;
const BUILD = sa('arpypi-build');
const PR = sa('arpypi-pr');
const FN_BUILD = sa('arpypi-fn-build');
const READER = sa('arpypi-reader');
/** Anyone at all: publishes on the stand-in's PyPI, as anyone may publish any free name there. */
const STRANGER = 'user:stranger@example.com';
/** The reader's token as the stand-in mints it on impersonation: characters that break naive templating. */
const TOKEN = tokenFor(READER, 'impersonated&|\\+=');
const ENCODED = encodeURIComponent(TOKEN).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const INSTALL_TOOLS = {
  reason:
    'pip install from PyPI, which this machine cannot reach: Debian provides build, setuptools, wheel, twine and pytest, ' +
    'and the stand-in keyring backend (test/standins/keyring_backend) takes the place of keyrings.google-artifactregistry-auth',
};

/** Each mode's repository lives on its own host, reached through a Cloud Build connection (2nd gen). */
const HOST = { token: 'github', native: 'gitlab' } as const;
const CONNECTION = (auth: 'token' | 'native') => `projects/${PROJECT}/locations/europe-west1/connections/arpypi-${HOST[auth]}`;
/** The repository as Cloud Build links it: what the regional triggers name. */
const LINK = (auth: 'token' | 'native') => `${CONNECTION(auth)}/repositories/mono`;

const combo = (auth: 'token' | 'native'): Combo => ({
  name: `e2e ${auth}`,
  options: {
    projectId: PROJECT, region: 'europe-west1', repository: 'py-e2e', githubOwner: 'acme', githubRepo: 'mono',
    packageName: 'Acme.E2E-Utils', pythonVersion: '3.11', auth, function: 'hello', triggers: 'connection', gitHost: HOST[auth],
  },
  // Event functions once, in native mode (their deploys differ in the trigger only), one of them on
  // Python 3.14, whose buildpack installs with uv unless told otherwise; a public function in token mode.
  more: auth === 'native'
    ? [{ name: 'orders-sync', options: { trigger: 'topic:orders', runtime: 'python314' } }, { name: 'uploads', options: { trigger: 'bucket:acme-uploads' } }]
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
/** The connection's grants follow Google's page on connecting the repository's host. */
const CONNECT_DOC = { token: 'https://cloud.google.com/build/docs/automating-builds/github/connect-repo-github', native: 'https://cloud.google.com/build/docs/automating-builds/gitlab/connect-repo-gitlab' } as const;
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
    .replace(/^serviceAccount:service-\d+@gcp-sa-cloudbuild\.iam\.gserviceaccount\.com$/, 'Cloud Build service agent')
    .replace(/^serviceAccount:/, '');
  for (const name of [...functions].sort((a, b) => b.length - a.length)) {
    out = out.replaceAll(`fn-${name}`, 'fn-NAME').replaceAll(`ev-${name}`, 'ev-NAME').replaceAll(`install-${name}`, 'install-NAME').replace(new RegExp(` ${name}( |$)`, 'g'), ' NAME$1');
  }
  return out;
}

function where(b: Binding, functions: string[]): string {
  if (b.resource === REPOSITORY) return 'the Python repository';
  if (b.resource === INDEX_REPOSITORY) return 'the virtual repository pip reads';
  if (b.resource === IMAGES_REPOSITORY) return "the functions' Docker repository";
  if (/\/connections\/[^/]+$/.test(b.resource)) return 'the Cloud Build connection';
  if (b.resource === `projects/${PROJECT}`) return b.title ? `project, under the condition "${generalise(b.title, functions)}"` : 'project';
  const account = /serviceAccounts\/(.*)$/.exec(b.resource);
  if (account) return `the account ${generalise(account[1], functions)}`;
  return b.resource;
}

interface Prepared { repo: string; google: Standin; index: Standin; ownerEnv: NodeJS.ProcessEnv; setupBindings: Binding[]; agentChecks: IamCheck[]; goLive: string[] }
/** Cloud Build's service agent: it makes the connection and fetches each build's source through it. */
const CLOUD_BUILD_AGENT = `serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-cloudbuild.iam.gserviceaccount.com`;
const preparing = new Map<string, Promise<Prepared>>();

/** A generated repository, its stand-ins, and the project that its scripts/setup-gcp.sh set up as the owner. */
/** The commands of the generated README's "Go live" section, in order, one per shell line. */
function goLiveCommands(repo: string): string[] {
  const section = read(repo, 'README.md').split('\n## Go live')[1].split('\n## ')[0];
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1].replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/\s+# .*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Goes live as the generated README says, command by command and in order, against the stand-ins:
 * the commands that reach Google run as they are; the few that need a person or the internet are
 * played here, each named (a browser sign-in, GitHub's CLI, a push to the git host). Steps 6 and 7
 * (the push's builds, the functions' answers) are the tests below. Returns what was done, in order.
 */
async function goLive(auth: 'token' | 'native', repo: string, google: Standin, env: NodeJS.ProcessEnv): Promise<{ log: string[]; setupSeconds: number[] }> {
  const log: string[] = [];
  const setupSeconds: number[] = [];
  const origin = path.join(tempDir('origin'), 'mono.git');
  ok('git', ['init', '-q', '--bare', '-b', 'main', origin]);
  const gitEnv = { ...env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  const sh = (line: string) => ok('bash', ['-c', line], { cwd: repo, env: gitEnv });
  let setupRuns = 0;
  for (const line of goLiveCommands(repo)) {
    if (/^git (init -b main|add -A|commit -m "[^"]+")$/.test(line) || line === `gcloud config set project ${PROJECT}`) {
      sh(line);
      log.push(`ran: ${line}`);
    } else if (line === 'gh repo create acme/mono --private --source=. --remote=origin' || line === 'git remote add origin https://gitlab.com/acme/mono.git') {
      // The git host: a bare repository here, as the remote.
      sh(`git remote add origin '${origin}'`);
      log.push(`played: ${line} (the remote is a local bare repository)`);
    } else if (line === 'gcloud auth login' || line === 'gcloud auth application-default login') {
      // A browser sign-in: the environment already names the owner's stand-in token.
      log.push(`played: ${line} (the stand-in's owner token)`);
    } else if (/^gcloud secrets versions add arpypi-gitlab-(api|read)-token --project=acme-e2e-1 --data-file=-$/.test(line)) {
      // Pasting a GitLab token, then Ctrl-D.
      ok('bash', ['-c', line], { cwd: repo, env, input: `glpat-${line.split(' ')[3]}` });
      log.push(`ran: ${line} (a token on its input)`);
    } else if (line === 'bash scripts/setup-gcp.sh --dry-run') {
      const dry = await runSetup(repo, ['--dry-run'], env);
      if (dry.status !== 0) throw new Error(`setup-gcp.sh --dry-run failed:\n${dry.stdout}${dry.stderr}`);
      log.push(`ran: ${line}`);
    } else if (line === 'bash scripts/setup-gcp.sh') {
      const result = await runSetup(repo, [], env);
      setupSeconds.push(result.seconds);
      setupRuns += 1;
      const yours = /setup-gcp: one step is yours, in a browser: (.*)\.\n/.exec(result.stdout)?.[1];
      if (setupRuns === 1 && auth === 'token') {
        // GitHub: the first run stops at the connection; the person authorises Cloud Build and installs its GitHub App.
        if (result.status !== 1 || !yours?.includes('install the Cloud Build GitHub App on acme/mono')) throw new Error(`setup-gcp.sh did not stop at the GitHub step:\n${result.stdout}${result.stderr}`);
        await completeGithubConnection(google, CONNECTION(auth), ['acme/mono']);
        log.push(`ran: ${line} (it stopped at the connection: the browser steps played)`);
      } else if (setupRuns === 1) {
        // GitLab: the first run makes the secrets and stops for the tokens, which the next lines store.
        if (result.status !== 1 || !yours?.includes('arpypi-gitlab-api-token') || !yours.includes('arpypi-gitlab-read-token')) throw new Error(`setup-gcp.sh did not stop at the GitLab step:\n${result.stdout}${result.stderr}`);
        log.push(`ran: ${line} (it stopped for the GitLab tokens)`);
      } else {
        if (result.status !== 0) throw new Error(`setup-gcp.sh failed:\n${result.stdout}${result.stderr}`);
        log.push(`ran: ${line}`);
      }
    } else if (line === 'git push -u origin main') {
      sh(line);
      log.push(`ran: ${line} (to the bare remote; the host's event is delivered by the tests)`);
      break;
    } else {
      throw new Error(`the README's Go live has a command this test does not know how to follow: ${line}`);
    }
  }
  return { log, setupSeconds };
}

async function prepare(auth: 'token' | 'native', repo: string): Promise<Prepared> {
  const googleData = tempDir('google-apis');
  // The bucket a bucket function listens to exists before the deploy, as it must in a real project. The
  // native-mode project is old enough (created before 2021-04-08) to need the Pub/Sub service agent's grant.
  // The native-mode project's Pub/Sub API was on before 2021-04-08, so its service agent lacks the role that
  // Google grants agents made since, and setup-gcp.sh must grant it token creation (the token-mode one has it).
  writeFileSync(path.join(googleData, 'state.json'), JSON.stringify({
    projects: { [PROJECT]: { projectNumber: PROJECT_NUMBER, createTime: auth === 'native' ? '2020-06-01T00:00:00.000Z' : '2024-01-01T00:00:00.000Z' } },
    ...(auth === 'native' ? { services: { [PROJECT]: ['pubsub.googleapis.com'] } } : {}),
    buckets: { 'acme-uploads': { location: 'EUROPE-WEST1', projectNumber: PROJECT_NUMBER } },
  }));
  // Function builds install requirements.txt as Google's buildpack does; its pip path gets the build account's credential.
  const google = await startStandin('google_apis.py', ['--function-builds', tokenFor(FN_BUILD)], googleData);
  // The private repository, a PyPI remote one and the virtual one over both, as setup-gcp.sh makes them.
  const index = await startStandin('pypi_index.py', ['--iam-state', path.join(googleData, 'state.json'), '--repository', REPOSITORY,
    '--remote', REMOTE, '--virtual', `${VIRTUAL}=standard:100,${REMOTE}:10`]);
  const ownerEnv = {
    ...gcloudEnvFor(google, PROJECT),
    HOME: tempDir('home'),
    PYTHONPATH: path.join(STANDINS, 'keyring_backend'),
    PYTHON_KEYRING_BACKEND: 'ar_standin_keyring.StandinBackend',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    // How often a deploy asks whether its version is released (10 s in Cloud Build).
    RELEASE_POLL_SECONDS: '0.3',
  };
  const { log, setupSeconds } = await goLive(auth, repo, google, ownerEnv);
  console.log(`e2e ${auth}: the README's Go live, setup-gcp.sh runs ${setupSeconds.map((t) => t.toFixed(1)).join(' s, ')} s`);
  const state = JSON.parse(readFileSync(path.join(googleData, 'state.json'), 'utf8')) as { iamPolicies: Record<string, { bindings?: { role: string; members: string[]; condition?: { title: string } }[] }> };
  // What setup-gcp.sh granted: every binding but the owner's and the roles Google grants its own service agents.
  const setupBindings = Object.entries(state.iamPolicies).flatMap(([resource, policy]) => (policy.bindings ?? [])
    .filter((b) => !/^roles\/\w+\.serviceAgent$/.test(b.role)).flatMap((b) =>
      b.members.filter((m) => m !== OWNER).map((member) => ({ resource, role: b.role, member, title: b.condition?.title ?? '' }))));
  // What the agent did on the project's behalf while the connection was made and completed.
  const agentChecks = iamChecks(google.requests()).filter((c) => c.member === CLOUD_BUILD_AGENT);
  return { repo, google, index, ownerEnv, setupBindings, agentChecks, goLive: log };
}

/**
 * The end-to-end tests of one mode: token mode on GitHub, native mode on GitLab. Each mode is a
 * test file of its own (e2e-github, e2e-gitlab), so that the two run side by side.
 */
export function endToEnd(auth: 'token' | 'native'): void {
  beforeAll(async () => {
    const repo = await generate(combo(auth));
    const promise = prepare(auth, repo);
    promise.catch(() => undefined); // awaited (and reported) by its describe
    preparing.set(auth, promise);
  });

  describe(`${auth} mode, end to end, each pipeline as its own identity`, () => {
    const python = requirePython();
    let repo: string;
    let index: Standin;
    let google: Standin;
    let ownerEnv: NodeJS.ProcessEnv;
    let logDir: string;
    let setupBindings: Binding[] = [];
    let goLiveLog: string[] = [];
    /** How many tests hello's pytest runs, as generated (test 3). */
    let helloTests = 0;
    const printed: string[] = [];
    const steps: StepChecks[] = [];
    const functions = ['hello', ...combo(auth).more.map((f) => f.name)];

    /** The environment of a process that runs as MEMBER: gcloud's token and the keyring's (twine, pip). */
    const envAs = (member: string): NodeJS.ProcessEnv => {
      const file = tokenFile(member);
      return { ...ownerEnv, CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: file, AR_STANDIN_TOKEN_FILE: file, ...STEP_ENV };
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

    /**
     * A trigger's build as its service account, the repository URLs pointed at the stand-in (the seam).
     * RECORD files each step's permission checks; builds that overlap leave it off, since then
     * another build's requests would be filed under this one's steps.
     */
    /**
     * The build that a push to main (or a pull request to it) starts through the regional trigger of
     * TRIGGER's file, as the stand-in's Cloud Build resolves it from the imported trigger: its account,
     * its substitutions and Cloud Build's built-in ones. The push changes a file the trigger includes.
     */
    const triggered = (trigger: string) => {
      const file = parse(read(repo, trigger)) as { name: string; includedFiles?: string[] };
      const commitSha = ok('git', ['-C', repo, 'rev-parse', 'HEAD']).stdout.trim();
      const event: RepositoryEvent = file.name === 'pull-request-checks'
        ? { pullRequest: { number: 7, baseBranch: 'main', headBranch: 'feature', commitSha, changedFiles: ['package/README.md'], authorIsWriter: true } }
        : { push: { branch: 'main', commitSha, changedFiles: [(file.includedFiles ?? ['README.md'])[0].replace('**', 'x')] } };
      const delivery = deliverEventSync(google, LINK(auth), event);
      const started = delivery.builds.find((b) => b.triggerName === file.name);
      if (!started) throw new Error(`the event started no build of ${file.name}: ${JSON.stringify(delivery)}`);
      return started;
    };
    const buildRun = (config: string, trigger: string, extra: Partial<BuildRun> = {}, record = true): BuildRun => {
      const before = google.requests().length;
      const started = triggered(trigger);
      // Cloud Build fetches the commit through the connection, for the trigger's account.
      if (record) steps.push({ step: `${started.triggerName}: source fetch`, checks: iamChecks(google.requests().slice(before)) });
      const member = `serviceAccount:${started.serviceAccountEmail}`;
      const env = envAs(member);
      const pipeline = started.triggerName;
      const declared = Object.keys(parse(read(repo, config)).substitutions ?? {});
      const seams = Object.fromEntries(Object.entries({ _PYPI_URL: index.url, _INDEX_URL: `${index.url}${VIRTUAL}/` }).filter(([k]) => declared.includes(k)));
      let marks: number[] = [];
      return {
        workspace: repo,
        config,
        builtIns: { ...started.builtIns, BUILD_ID: `b-${Date.now()}` },
        substitutions: { ...started.substitutions, ...seams },
        env,
        entrypoints: { python: STEP_PYTHON, python3: STEP_PYTHON },
        replacements: { 'install-tools': INSTALL_TOOLS },
        logFile: path.join(logDir, `${pipeline}-${Date.now()}.log`),
        // Cloud Build writes the build's log to Cloud Logging as its service account (CLOUD_LOGGING_ONLY).
        // Cloud Build itself writes it (Logging's entries.write, as the build's account): an HTTP call, no gcloud.
        start: () => {
          const body = JSON.stringify({ logName: `projects/${PROJECT}/logs/cloudbuild`, resource: { type: 'build' }, entries: [{ textPayload: `build of ${pipeline}` }] });
          const result = run('curl', ['-sS', '-X', 'POST', '-H', `Authorization: Bearer ${tokenFor(member)}`, '-H', 'Content-Type: application/json',
            '--data-binary', body, '-w', '\n%{http_code}', `${google.url}v2/entries:write`]);
          const status = result.stdout.trim().split('\n').at(-1);
          return { status: status === '200' ? 0 : 1, stdout: result.stdout, stderr: status === '200' ? '' : result.stdout };
        },
        around: record ? (id, phase) => {
          if (phase === 'before') marks = counts();
          else {
            // The index's checks during a deploy are the function build's pip, on the deploy's behalf.
            const checks = [...iamChecks(google.requests().slice(marks[0])),
              ...iamChecks(index.requests().slice(marks[1])).map((c) => (id === 'deploy' ? { ...c, by: c.by ?? 'function build' } : c))];
            for (const by of new Set(checks.map((c) => c.by))) {
              const label = id === 'start' ? 'start (the build log)' : id;
              steps.push({ step: `${pipeline}: ${label}${by ? ` (${by})` : ''}`, checks: checks.filter((c) => c.by === by) });
            }
          }
        } : undefined,
        ...extra,
      };
    };
    const build = (config: string, trigger: string, extra: Partial<BuildRun> = {}, record = true): BuildResult => {
      freshCheckout();
      const result = runBuild(buildRun(config, trigger, extra, record));
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
      .map((r) => r.functionBuild as {
        installer: string; credentials: boolean; downloaded: string[]; status: number; output?: string; sha256?: Record<string, string>;
        /** Each pip call of the build: which file, the indexes it read, what it downloaded. */
        installs: { requirements: string; indexes: string[]; downloaded: string[]; status: number }[];
      });
    const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    /** Publishes NAME VERSION on the stand-in's public PyPI, as anyone may; a wheel TAG and BUILD tag rank it for pip. */
    const publishOnPypi = (name: string, version: string, tag = 'py3-none-any', build = '') => {
      const out = tempDir('pypi-upload');
      ok(python, ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); from wheels import make_wheel; make_wheel(sys.argv[2], sys.argv[3], sys.argv[4], tag=sys.argv[5], build=sys.argv[6] or None)',
        STANDINS, out, name, version, tag, build]);
      ok('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', `${index.url}pypi/`, '-u', 'oauth2accesstoken', '-p', tokenFor(STRANGER),
        ...readdirSync(out).filter((f) => f.endsWith('.whl')).map((f) => path.join(out, f))], { env: { ...ownerEnv, PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' } });
    };
    /** The wheel of the first release, kept for uploads that must be refused (a build's checkout has no dist/). */
    let releasedWheel = '';
    /** The function build of orders-sync (Python 3.14), deployed with the event functions. */
    let orders314: unknown;
    const show = (r: BuildResult) => r.steps.map((s) => `${s.id}: ${s.status}\n${s.stdout}${s.stderr}`).join('\n');

    // Both setups run side by side with the rest of the suite: on a loaded 2-core machine that can take minutes.
    beforeAll(async () => {
      let agentChecks: IamCheck[];
      ({ repo, google, index, ownerEnv, setupBindings, agentChecks, goLive: goLiveLog } = await preparing.get(auth)!);
      steps.push({ step: 'setup-gcp.sh: the connection (Cloud Build service agent)', checks: agentChecks });
      logDir = tempDir('build-logs');
    }, 600_000);

    afterAll(async () => {
      await index?.stop();
      await google?.stop();
    });

    it('Go live, as the generated README says: every command of its steps 1 to 6, in order, against the stand-ins', () => {
      const person = auth === 'token'
        ? ['played: gh repo create acme/mono --private --source=. --remote=origin (the remote is a local bare repository)']
        : ['played: git remote add origin https://gitlab.com/acme/mono.git (the remote is a local bare repository)'];
      const connection = auth === 'token'
        ? ['ran: bash scripts/setup-gcp.sh (it stopped at the connection: the browser steps played)', 'ran: bash scripts/setup-gcp.sh']
        : ['ran: bash scripts/setup-gcp.sh (it stopped for the GitLab tokens)',
          'ran: gcloud secrets versions add arpypi-gitlab-api-token --project=acme-e2e-1 --data-file=- (a token on its input)',
          'ran: gcloud secrets versions add arpypi-gitlab-read-token --project=acme-e2e-1 --data-file=- (a token on its input)',
          'ran: bash scripts/setup-gcp.sh'];
      expect(goLiveLog).toEqual([
        'ran: git init -b main', 'ran: git add -A', 'ran: git commit -m "Generated by generator-arpypi"', ...person,
        'played: gcloud auth login (the stand-in\'s owner token)', `ran: gcloud config set project ${PROJECT}`,
        'played: gcloud auth application-default login (the stand-in\'s owner token)',
        'ran: bash scripts/setup-gcp.sh --dry-run', ...connection,
        'ran: git push -u origin main (to the bare remote; the host\'s event is delivered by the tests)',
      ]);
      // The push reached the host: its first commit is there.
      expect(ok('git', ['-C', repo, 'rev-parse', 'origin/main']).stdout.trim()).toBe(ok('git', ['-C', repo, 'rev-parse', 'HEAD']).stdout.trim());
      // Step 6: the host tells Cloud Build of the push; the builds the README names start, and gcloud builds list shows them.
      const step6 = read(repo, 'README.md').split('\n6. Push.')[1].split('\n```')[0];
      const named = [...step6.matchAll(/`((?:package-release|fn-[a-z0-9-]+))`/g)].map((m) => m[1]).sort();
      expect(named).toEqual(['package-release', ...functions.map((n) => `fn-${n}`)].sort());
      const commitSha = ok('git', ['-C', repo, 'rev-parse', 'HEAD']).stdout.trim();
      const delivery = deliverEventSync(google, LINK(auth), { push: { branch: 'main', commitSha, changedFiles: ok('git', ['-C', repo, 'ls-files']).stdout.trim().split('\n') } });
      expect(delivery.failed).toEqual([]);
      expect(delivery.builds.map((b) => b.triggerName).sort()).toEqual(named);
      const listCommand = goLiveCommands(repo).find((l) => l.startsWith('gcloud builds list '))!;
      expect(listCommand).toBe(`gcloud builds list --project=${PROJECT} --region=europe-west1 --limit=5`);
      const listed = ok('bash', ['-c', `${listCommand} --format='value(id)'`], { env: ownerEnv }).stdout.trim().split('\n');
      expect(listed.sort()).toEqual(delivery.builds.map((b) => b.id).sort());
    });

    it('1. release, as arpypi-build: tests, builds, uploads with twine; the index serves it; a release of changed code without a bump stops before upload; a change of tests or docs alone passes', () => {
      const first = build('package/cloudbuild.yaml', 'triggers/package.yaml');
      expect(first.steps.map((s) => [s.id, s.status]), show(first)).toEqual([
        ['install-tools', 0], ['test', 0], ['build', 0], ['check-dist', 0], ['check-version-unpublished', 0], ['upload', 0],
      ]);
      expect(first.substitutions._PYPI_URL).toBe(index.url);
      releasedWheel = path.join(tempDir('released'), readdirSync(path.join(repo, 'package/dist')).find((f) => f.endsWith('.whl'))!);
      writeFileSync(releasedWheel, readFileSync(path.join(repo, 'package/dist', path.basename(releasedWheel))));
      // Without the test's override, the same seams name the real repositories.
      for (const [config, trigger] of [['package/cloudbuild.yaml', 'triggers/package.yaml'], ['functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml']]) {
        const values = resolveSubstitutions(parse(read(repo, config)), { PROJECT_ID: PROJECT }, parse(read(repo, trigger)).substitutions);
        expect(values._PYPI_URL, config).toBe(`https://europe-west1-python.pkg.dev/${PROJECT}/${PRIVATE}/`);
        if (config.startsWith('functions/')) expect(values._INDEX_URL).toBe(`https://europe-west1-python.pkg.dev/${PROJECT}/${VIRTUAL}/`);
      }
      expect(uploads().map((r) => [r.status, r.identity])).toEqual([[200, BUILD], [200, BUILD]]);
      const simple = run('curl', ['-sf', '-u', `oauth2accesstoken:${tokenFor(BUILD)}`, `${index.url}simple/${PROJECT_NAME}/`]);
      expect(simple.stdout).toMatch(/acme[._-]e2e[._-]utils-0\.1\.0-py3-none-any\.whl/i);

      // Dependency confusion from here on: a stranger publishes the package's name on PyPI,
      // a higher version and the same version. Every deploy and install below must still get ours.
      // The stranger also publishes what PEP 440's == would take for 0.1.0 (0.1.0.0 and 0.1), and a 0.1.0 wheel
      // that pip ranks above ours (a more specific tag and a build tag), each under our file names' spelling.
      publishOnPypi('acme_e2e_utils', '9.9.9');
      publishOnPypi('acme_e2e_utils', '0.1.0');
      publishOnPypi('acme_e2e_utils', '0.1.0.0');
      publishOnPypi('acme_e2e_utils', '0.1');
      publishOnPypi('acme_e2e_utils', '0.1.0', 'py311-none-any', '1');

      // What follows does not depend on the auth mode: once, in native mode.
      if (auth === 'token') return;
      // A push that touched only tests or docs (or a re-run): nothing new, no failure.
      const testFile = 'package/tests/test_acme_e2e_utils.py';
      writeFileSync(path.join(repo, testFile), `${read(repo, testFile)}\n\ndef test_added_later() -> None:\n    assert True\n`);
      appendFileSync(path.join(repo, 'package/README.md'), '\nMore words about the package.\n');
      commit('tests and docs only');
      const docs = build('package/cloudbuild.yaml', 'triggers/package.yaml');
      expect(docs.ok, show(docs)).toBe(true);
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

    it('2. deploy, as arpypi-build: renders requirements.txt (one index, the pinned version), waits for the release, deploys with the real gcloud; the function builds as arpypi-fn-build, with pip', () => {
      const result = build('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml');
      expect(result.steps.map((s) => [s.id, s.status]), show(result)).toEqual([['prepare-requirements', 0], ['wait-for-release', 0], ['deploy', 0]]);
      expect(result.steps[1].stdout).toContain(`${PROJECT_NAME}===0.1.0 is in ${PRIVATE} in europe-west1`);
      const rendered = read(repo, 'functions/hello/requirements.txt');
      const base = index.url.replace('http://', '');
      expect(rendered.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
        auth === 'token' ? `--index-url http://oauth2accesstoken:${ENCODED}@${base}${VIRTUAL}/simple/` : `--index-url ${index.url}${VIRTUAL}/simple/`,
        // wait-for-release pinned the released wheel itself: its URL in the private repository and its sha256.
        `${PROJECT_NAME} @ ${index.url}packages/acme_e2e_utils-0.1.0-py3-none-any.whl#sha256=${sha256(path.join(index.dataDir, 'packages/acme_e2e_utils-0.1.0-py3-none-any.whl'))}`,
        `functions-framework==${FUNCTIONS_FRAMEWORK}`,
      ]);
      expect(result.steps[1].stdout).toContain('the pin is to acme_e2e_utils-0.1.0-py3-none-any.whl by its sha256');
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
      expect(body.buildConfig).toMatchObject({
        runtime: 'python311', entryPoint: 'handler', serviceAccount: `projects/${PROJECT}/serviceAccounts/${FN_BUILD.split(':')[1]}`,
        environmentVariables: { GOOGLE_PYTHON_PACKAGE_MANAGER: 'pip' }, dockerRepository: IMAGES_REPOSITORY,
      });
      expect(body.eventTrigger).toBeUndefined();
      expect(body.serviceConfig).toMatchObject({ availableMemory: '256Mi', timeoutSeconds: 60, serviceAccountEmail: sa('fn-hello').split(':')[1] });
      // A private function: gcloud touched no invoker policy.
      expect(requests.filter((r) => String(r.rpc).endsWith('IamPolicy') && r.identity === BUILD)).toEqual([]);
      // PyPI has a 9.9.9, 0.1.0.0, 0.1 and its own 0.1.0s of this name (test 1): the build downloaded our 0.1.0,
      // the file the pin names, from the private repository, as arpypi-fn-build (the buildpack's .netrc); the
      // rest through the virtual repository's pages, as arpypi-fn-build (native) or with the reader's token (token).
      const [fnBuild] = functionBuilds();
      expect(fnBuild, JSON.stringify(functionBuilds())).toMatchObject({ installer: 'pip', credentials: true, status: 0 });
      expect(fnBuild.downloaded.sort()).toEqual([expect.stringMatching(/^acme[._-]e2e[._-]utils-0\.1\.0-py3-none-any\.whl$/i), `functions_framework-${FUNCTIONS_FRAMEWORK}-py3-none-any.whl`]);
      expect(fnBuild.sha256?.[fnBuild.downloaded[0]]).toBe(sha256(path.join(index.dataDir, 'packages', fnBuild.downloaded[0])));
      // functions-framework is listed: the buildpack adds no install of its own, and the one install reads the one index.
      expect(fnBuild.installs.map((i) => [i.requirements, i.indexes])).toEqual([['requirements.txt', [`${index.url}${VIRTUAL}/simple/`.replace('http://', auth === 'token' ? `http://oauth2accesstoken:${ENCODED}@` : 'http://')]]]);
      const ours = index.requests().filter((r) => r.method === 'GET' && r.path === '/packages/acme_e2e_utils-0.1.0-py3-none-any.whl').at(-1);
      expect(ours).toMatchObject({ status: 200, identity: FN_BUILD });
      const read0 = index.requests().filter((r) => r.method === 'GET' && r.path.startsWith(`/${VIRTUAL}/packages/`)).at(-1);
      expect(read0).toMatchObject({ status: 200, identity: FN_BUILD });
      const page = index.requests().filter((r) => r.method === 'GET' && r.path === `/${VIRTUAL}/simple/functions-framework/`).at(-1);
      expect(page).toMatchObject({ status: 200, identity: auth === 'native' ? FN_BUILD : READER });
      // No page of the package's name was read: the pin names the file.
      expect(index.requests().filter((r) => r.path === `/${VIRTUAL}/simple/${PROJECT_NAME}/` && r.identity === FN_BUILD)).toEqual([]);
      if (auth === 'native') {
        // The generated README's way to find the deployed function answers with its URL.
        const describe = /\$\((gcloud functions describe hello [^\n]*?')\)/.exec(read(repo, 'README.md'))![1];
        const uri = ok('bash', ['-c', describe], { env: ownerEnv }).stdout.trim();
        expect(uri).toMatch(/^https:\/\/hello-\d+\.europe-west1\.run\.app$/);
      }
    });

    it('3. install, as the function build reads the index: pip installs the package with the rendered requirements; another identity gets 401 or 403', () => {
      const venv = path.join(tempDir('venv'), 'v');
      ok(python, ['-m', 'venv', '--system-site-packages', venv]);
      const netrcHome = (member: string | null) => {
        const home = tempDir('pip-home');
        if (member) writeFileSync(path.join(home, '.netrc'), `machine 127.0.0.1 login oauth2accesstoken password ${tokenFor(member)}\n`);
        return home;
      };
      // Google's build writes a .netrc for the function build account; in token mode the URL carries the reader's token,
      // which pip uses for the index's page (the files it links to go by the .netrc).
      const pipEnv = { ...ownerEnv, HOME: netrcHome(FN_BUILD), PYTHONPATH: '', PIP_RETRIES: '0', PIP_TIMEOUT: '5' };
      const install = observe(auth === 'native' ? 'function build: pip reads the index as arpypi-fn-build' : 'function build: pip reads the index page with the reader token', () =>
        run(path.join(venv, 'bin/pip'), ['install', '--no-cache-dir', '-r', 'requirements.txt'], { cwd: path.join(repo, 'functions/hello'), env: pipEnv }));
      expect(install.status, install.stdout + install.stderr).toBe(0);
      expect(install.stdout).toMatch(/Successfully installed Acme[.-]E2E[-_]Utils-0\.1\.0/i);
      expect(index.requests().filter((r) => r.method === 'GET').at(-1)?.identity).toBe(FN_BUILD);
      expect(index.requests().filter((r) => r.method === 'GET' && r.path.includes('/simple/')).at(-1)?.identity).toBe(auth === 'native' ? FN_BUILD : READER);
      const test = run(path.join(venv, 'bin/python'), ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: path.join(repo, 'functions/hello'), env: pipEnv });
      expect(test.status, test.stdout + test.stderr).toBe(0);
      helloTests = Number(/\b([1-9]\d*) passed/.exec(test.stdout)?.[1]);

      // A wrong credential is refused with a 401; a real identity without a binding (the function's runtime) with a 403.
      for (const [secret, code] of [['wrong-token', 401], [tokenFor(sa('fn-hello')), 403]] as const) {
        const wrong = path.join(tempDir('wrong'), 'w');
        mkdirSync(wrong);
        const rendered = read(repo, 'functions/hello/requirements.txt');
        writeFileSync(path.join(wrong, 'requirements.txt'), auth === 'token' ? rendered.replace(ENCODED, encodeURIComponent(secret)) : rendered);
        const home = tempDir('wrong-home');
        // As a build whose account is the secret's: Google's buildpack writes its .netrc in both modes.
        writeFileSync(path.join(home, '.netrc'), `machine 127.0.0.1 login oauth2accesstoken password ${secret}\n`);
        const before = index.requests().length;
        const refused = run(path.join(venv, 'bin/pip'), ['install', '--no-cache-dir', '--force-reinstall', '-r', 'requirements.txt'], { cwd: wrong, env: { ...pipEnv, HOME: home } });
        expect(refused.status).not.toBe(0);
        const answers = index.requests().slice(before);
        expect(answers.map((r) => r.status)).toContain(code);
        expect(answers.filter((r) => r.status === 200)).toEqual([]);
      }
    });

    // Dependency confusion: the stranger's 9.9.9, 0.1.0, 0.1.0.0, 0.1 and a better-ranked 0.1.0 wheel are on
    // PyPI since test 1; the deploy of test 2 and the install of test 3 got the private 0.1.0 (test 2 checks
    // the file by its sha256).
    if (auth === 'native') it('one trusted index: a higher version, the same version (better ranked too), and what == would take for it, of the package\'s name on PyPI, do not reach the function', () => {
      const reader = tokenFor(FN_BUILD);
      // The virtual repository lists PyPI's other version strings (priority decides per version, as Google's
      // does, and 0.1.0.0 and 0.1 are not 0.1.0 there: the stricter reading), and for 0.1.0, which both
      // upstreams have, only the private repository's files.
      const page = run('curl', ['-sf', '-u', `oauth2accesstoken:${reader}`, `${index.url}${VIRTUAL}/simple/${PROJECT_NAME}/`]).stdout;
      const listed = [...page.matchAll(/>([^<]+\.(?:whl|tar\.gz))</g)].map((m) => m[1]).sort();
      const privateFiles = readdirSync(path.join(index.dataDir, 'packages')).filter((f) => /-0\.1\.0[-.]/.test(f)).sort();
      expect(privateFiles).toEqual(['acme_e2e_utils-0.1.0-py3-none-any.whl', 'acme_e2e_utils-0.1.0.tar.gz']);
      expect(listed).toEqual([...privateFiles, 'acme_e2e_utils-0.1-py3-none-any.whl', 'acme_e2e_utils-0.1.0.0-py3-none-any.whl', 'acme_e2e_utils-9.9.9-py3-none-any.whl'].sort());
      const download = (requirement: string) => {
        const probe = path.join(tempDir('probe'), 'p');
        const home = tempDir('probe-home');
        writeFileSync(path.join(home, '.netrc'), `machine 127.0.0.1 login oauth2accesstoken password ${reader}\n`);
        const result = run(python, ['-m', 'pip', 'download', '--no-cache-dir', '--no-deps', '-d', probe, '--index-url', `${index.url}${VIRTUAL}/simple/`, requirement],
          { env: { ...ownerEnv, HOME: home, PYTHONPATH: '', PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' } });
        expect(result.status, result.stderr).toBe(0);
        return readdirSync(probe);
      };
      // Unpinned, pip takes the stranger's 9.9.9; with ==0.1.0, the stranger's 0.1.0.0 is as good a match as
      // ours and pip prefers it: the model can fail, and === (one version string) is what stops it.
      expect(download('Acme.E2E-Utils')).toEqual(['acme_e2e_utils-9.9.9-py3-none-any.whl']);
      expect(download('Acme.E2E-Utils==0.1.0')).toEqual(['acme_e2e_utils-0.1.0.0-py3-none-any.whl']);
      const ours = download('Acme.E2E-Utils===0.1.0');
      expect(ours).toEqual(['acme_e2e_utils-0.1.0-py3-none-any.whl']);
      // The stranger's better-ranked 0.1.0 wheel is on PyPI, and the virtual repository serves ours, by sha256.
      expect(readdirSync(path.join(index.dataDir, 'pypi/packages')).filter((f) => f.startsWith('acme_e2e_utils-0.1.0-'))).toEqual(
        expect.arrayContaining(['acme_e2e_utils-0.1.0-1-py311-none-any.whl', 'acme_e2e_utils-0.1.0-py3-none-any.whl']));
      const served = path.join(tempDir('served'), 'w.whl');
      ok('curl', ['-sf', '-u', `oauth2accesstoken:${reader}`, '-o', served, `${index.url}${VIRTUAL}/packages/${ours[0]}`]);
      expect(sha256(served)).toBe(sha256(path.join(index.dataDir, 'packages', ours[0])));
      expect(sha256(served)).not.toBe(sha256(path.join(index.dataDir, 'pypi/packages', ours[0])));
    });

    // Release order: one push changes the package and a function; both pipelines start at once.
    if (auth === 'native') it('release before deploy: the deploy waits for the version the same push releases, then deploys it; a version never released times out with what to do', async () => {
      const trigger = parse(read(repo, 'triggers/fn-hello.yaml'));
      expect(trigger.includedFiles).toEqual(expect.arrayContaining(['functions/hello/**', 'package/src/**', 'package/pyproject.toml']));
      const init = 'package/src/acme_e2e_utils/__init__.py';
      writeFileSync(path.join(repo, init), read(repo, init).replace('__version__ = "0.1.0"', '__version__ = "0.2.0"'));
      writeFileSync(path.join(repo, 'functions/hello/main.py'), `${read(repo, 'functions/hello/main.py')}\n\n# changed with the package\n`);
      commit('package 0.2.0 and hello');

      // Unreleased and a short timeout (a manual build, so MUST_MATCH applies): a clear failure.
      const timedOut = build('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml',
        { mode: 'manual', substitutions: { _PYPI_URL: index.url, _INDEX_URL: `${index.url}${VIRTUAL}/`, _RELEASE_TIMEOUT: '1' } });
      expect(timedOut.steps.map((s) => [s.id, s.status]), show(timedOut)).toEqual([['prepare-requirements', 0], ['wait-for-release', 1]]);
      expect(timedOut.steps[1].stderr).toContain(`${PROJECT_NAME}===0.2.0 is not in ${PRIVATE} in europe-west1 after 1s. Did the package-release build of this commit fail?`);

      // The two builds overlap: neither files its permission checks (tests 1 and 2 prove the same steps alone).
      const logBefore = index.requests().length;
      const googleBefore = google.requests().length;
      freshCheckout();
      const seen: string[] = [];
      const deploying = runBuildAsync(buildRun('functions/hello/cloudbuild.yaml', 'triggers/fn-hello.yaml', {}, false), (id) => seen.push(id));
      // The deploy asks for its version before the release has it.
      const asked = () => index.requests().slice(logBefore).filter((r) => r.method === 'GET' && r.path === `/simple/${PROJECT_NAME}/`);
      for (let waited = 0; asked().length === 0; waited += 100) {
        if (waited > 30_000) throw new Error(`the deploy never asked the index for ${PROJECT_NAME}; steps: ${seen}`);
        await sleep(100);
      }
      expect(seen).toContain('wait-for-release');
      const release = build('package/cloudbuild.yaml', 'triggers/package.yaml', {}, false);
      expect(release.ok, show(release)).toBe(true);
      const deployed = await deploying;
      for (const step of deployed.steps) printed.push(step.stdout, step.stderr);
      expect(deployed.steps.map((s) => [s.id, s.status]), show(deployed)).toEqual([
        ['prepare-requirements', 0], ['wait-for-release', 0], ['deploy', 0],
      ]);
      const waitOut = deployed.steps[1].stdout;
      expect(waitOut).toContain(`${PROJECT_NAME}===0.2.0 is not in ${PRIVATE} in europe-west1 yet`);
      expect(waitOut).toContain(`${PROJECT_NAME}===0.2.0 is in ${PRIVATE} in europe-west1`);
      // Order in the index's log: asked (absent), uploaded, asked (present); then the function build installed 0.2.0.
      const log = index.requests().slice(logBefore);
      const upload = log.findIndex((r) => r.method === 'POST' && r.path === '/' && r.status === 200);
      expect(upload).toBeGreaterThan(log.findIndex((r) => r.path === `/simple/${PROJECT_NAME}/`));
      expect(functionBuilds(googleBefore)).toEqual([expect.objectContaining({ status: 0, downloaded: expect.arrayContaining([expect.stringMatching(/^acme[._-]e2e[._-]utils-0\.2\.0-py3-none-any\.whl$/i)]) })]);
    });

    it('4. triggers: setup-gcp.sh imported each trigger file as written, in the functions region, on the linked repository, the pull-request one running as arpypi-pr', () => {
      const triggers = listFiles(path.join(repo, 'triggers')).map((f) => `triggers/${f}`);
      expect(triggers.length).toBe(combo(auth).more.length + 3);
      const imports = google.requests().filter((r) => r.rpc === 'triggers.create' && r.status === 200);
      expect(imports).toHaveLength(triggers.length);
      for (const trigger of triggers) {
        const file = parse(read(repo, trigger));
        const sent = imports.find((r) => (r.body as { name: string }).name === file.name)!;
        expect(sent.path).toBe(`/v1/projects/${PROJECT}/locations/europe-west1/triggers`);
        const event = file.name === 'pull-request-checks' ? 'pullRequest' : 'push';
        expect(sent.body).toMatchObject({
          name: file.name, filename: file.filename, repositoryEventConfig: { repository: LINK(auth), [event]: { branch: '^main$' } },
          serviceAccount: `projects/${PROJECT}/serviceAccounts/${(file.name === 'pull-request-checks' ? PR : BUILD).split(':')[1]}`,
          tags: file.tags,
        });
      }
    });

    if (auth === 'token') it('deploys a public function: allUsers may invoke its service, and the build account\'s invoker-policy role let it set that', () => {
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
        if (name === 'orders-sync') orders314 = functionBuilds(before)[0];
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

    // Python 3.14: Google's buildpack installs with uv unless GOOGLE_PYTHON_PACKAGE_MANAGER says pip,
    // and only pip gets the repository's credentials.
    // Google's buildpack installs a functions-framework of its own, from PyPI directly, when the requirements
    // do not list it (GoogleCloudPlatform/buildpacks cmd/python/functions_framework): what listing it prevents.
    if (auth === 'native') it('functions-framework: without it in a function\'s requirements the build installs the buildpack\'s own, from PyPI directly; with it (test 2), only from the one index', () => {
      const needs = 'functions/hello/requirements.in';
      const kept = read(repo, needs);
      const config = 'functions/hello/cloudbuild-without-framework.yaml';
      expect(kept).toMatch(/^functions-framework==/m);
      writeFileSync(path.join(repo, needs), kept.replace(/^functions-framework==.*\n/m, ''));
      // A new function: the same source and requirements but for the framework.
      writeFileSync(path.join(repo, config), read(repo, 'functions/hello/cloudbuild.yaml').replace(/^( *- )hello$/m, '$1hello-bare'));
      const before = google.requests().length;
      try {
        const result = build(config, 'triggers/fn-hello.yaml');
        expect(result.ok, show(result)).toBe(true);
        const [bare] = functionBuilds(before);
        const pypi = readFileSync(path.join(google.dataDir, 'pypi-url'), 'utf8').trim();
        expect(bare.installs.map((i) => [i.requirements, i.indexes, i.status])).toEqual([
          ["functions-framework (the buildpack's converter/requirements.txt)", [pypi], 0],
          ['requirements.txt', [`${index.url}${VIRTUAL}/simple/`], 0],
        ]);
        expect(bare.installs[0].downloaded).toEqual(expect.arrayContaining([expect.stringMatching(/^functions_framework-/)]));
        // The buildpack's own install read the public PyPI, not the virtual repository.
        expect(pypi).not.toContain(VIRTUAL);
      } finally {
        writeFileSync(path.join(repo, needs), kept);
        rmSync(path.join(repo, config));
      }
    });

    if (auth === 'native') it('Python 3.14: the deploy selects pip and the build installs the private package; without that setting the build fails for want of credentials', () => {
      // With the setting: deployed by the event test above, built with pip.
      const config = 'functions/orders-sync/cloudbuild.yaml';
      expect(read(repo, config)).toContain('--runtime=python314');
      expect(orders314).toEqual(expect.objectContaining({ installer: 'pip', credentials: true, status: 0, downloaded: expect.arrayContaining([expect.stringMatching(/^acme[._-]e2e[._-]utils-0\.2\.0-py3-none-any\.whl$/i)]) }));

      const unfixed = 'functions/orders-sync/cloudbuild-without-pip.yaml';
      // A new function: gcloud keeps an existing function's build variables when the flag is left out.
      writeFileSync(path.join(repo, unfixed), read(repo, config)
        .replace(/^ *- --set-build-env-vars=GOOGLE_PYTHON_PACKAGE_MANAGER=pip\n/m, '')
        .replace(/^( *- )orders-sync$/m, '$1orders-sync-no-pip'));
      const middle = google.requests().length;
      const indexMiddle = index.requests().length;
      try {
        const failed = build(unfixed, 'triggers/fn-orders-sync.yaml');
        expect(failed.steps.map((s) => [s.id, s.status]), show(failed)).toEqual([['prepare-requirements', 0], ['wait-for-release', 0], ['deploy', 1]]);
        expect(failed.steps[2].stderr).toMatch(/Build failed: installing requirements.txt with uv failed: .*HTTP error 401 while getting http:\/\/127\.0\.0\.1:\d+\/packages\/acme_e2e_utils-0\.2\.0-py3-none-any\.whl/s);
        // The private repository refused the build's anonymous request: no credentials on the uv path.
        expect(index.requests().slice(indexMiddle).filter((r) => r.status === 401 && r.path === '/packages/acme_e2e_utils-0.2.0-py3-none-any.whl' && r.user === null).length).toBeGreaterThan(0);
        expect(functionBuilds(middle)).toEqual([expect.objectContaining({ installer: 'uv', credentials: false, downloaded: [] })]);
      } finally {
        rmSync(path.join(repo, unfixed));
      }
    });

    it('pull-request checks, as arpypi-pr, install each function\'s requirements (a new dependency included) with the package from the pull request, run every test, and neither upload nor deploy', () => {
      // The pull request adds a dependency to hello, and changes the package without releasing it.
      publishOnPypi('acme-tinydep', '1.0');
      const needs = 'functions/hello/requirements.in';
      writeFileSync(path.join(repo, needs), `${read(repo, needs)}acme-tinydep==1.0\n`);
      // Written as the repository's lint, format and type checks want it (the pull request runs them).
      appendFileSync(path.join(repo, 'functions/hello/test_main.py'),
        '\n\ndef test_the_new_dependency_is_installed() -> None:\n    import acme_tinydep  # type: ignore[import]\n\n    assert acme_tinydep.VERSION == "1.0"\n');
      const init = 'package/src/acme_e2e_utils/__init__.py';
      writeFileSync(path.join(repo, init), read(repo, init).replace(/__version__ = "[^"]+"/, '__version__ = "0.3.0"'));
      commit('pull request: hello needs acme-tinydep; package 0.3.0');
      // The pull request's build has a checkout of its own: what it renders is gone afterwards.
      const renderedBefore = new Map(functions.map((n) => {
        const file = path.join(repo, `functions/${n}/requirements.txt`);
        return [file, readFileSync(file, 'utf8')] as const;
      }));
      try {
        const uploadsBefore = uploads().length;
        const indexBefore = index.requests().length;
        const googleBefore = google.requests().length;
        // The checks that only read the checkout (lint, format, types, tests) run in the GitLab file; the GitHub one
        // runs every step that reaches Google or the index as arpypi-pr (the build, the checks against the repository,
        // each function's install), which is what its connection and its account change.
        const checksElsewhere = { reason: 'run once, by test/e2e-gitlab.test.ts: they read only the checkout, the same in both modes' };
        const steps = parse(read(repo, 'cloudbuild-pr.yaml')).steps.map((st: { id: string }) => st.id) as string[];
        const skipped = auth === 'token' ? steps.filter((id) => /^(lint|format|types(-.+)?|test-.+)$/.test(id)) : [];
        const result = build('cloudbuild-pr.yaml', 'triggers/pull-request.yaml', { replacements: { 'install-tools': INSTALL_TOOLS, ...Object.fromEntries(skipped.map((id) => [id, checksElsewhere])) } });
        expect(result.steps.map((s) => [s.id, s.status]), show(result)).toEqual([
          ['install-tools', 0], ['build', 0], ['check-dist', 0], ['check-version-unpublished', 0], ['lint', 0], ['format', 0], ['types', 0],
          ['test-package', 0], ['test-scripts', 0],
          ...[...functions].sort().flatMap((n) => [[`requirements-${n}`, 0], [`install-${n}`, 0], [`install-package-${n}`, 0], [`types-${n}`, 0], [`test-${n}`, 0]]),
        ]);
        expect(result.steps.filter((s) => s.replaced === checksElsewhere.reason).map((s) => s.id)).toEqual(skipped);
        if (auth === 'native') {
          // Every test of hello ran, the new one among them: one more than test 3 counted.
          expect(helloTests).toBeGreaterThan(0);
          expect(result.steps.find((s) => s.id === 'test-hello')!.stdout).toMatch(new RegExp(`\\b${helloTests + 1} passed`));
          for (const step of result.steps.filter((s) => s.id.startsWith('test-'))) expect(step.stdout, step.id).toMatch(/\b[1-9]\d* passed/);
        }
        const installed = readdirSync(path.join(repo, '.pr-deps/hello')).sort();
        expect(installed).toEqual(expect.arrayContaining(['acme_tinydep', 'acme_e2e_utils']));
        // The package came from the pull request's source (0.3.0 is on no index).
        expect(installed.filter((f) => /^acme[._-]e2e[._-]utils-0\.3\.0\.dist-info$/i.test(f))).toHaveLength(1);
        expect(uploads()).toHaveLength(uploadsBefore);
        // The index was only read, as arpypi-pr (pip asks without credentials first, then through the keyring).
        const reads = index.requests().slice(indexBefore);
        expect(reads.filter((r) => r.method !== 'GET' || (r.identity !== PR && r.status !== 401))).toEqual([]);
        expect(reads.filter((r) => r.identity === PR && r.status === 200).length).toBeGreaterThan(0);
        // Google: only the log write of the build's start.
        // Google: only the source fetch through the connection and the log write of the build's start.
        expect(google.requests().slice(googleBefore).filter((r) => !r.path.startsWith('/_standin/')).map((r) => [r.rpc, r.identity])).toEqual([['entries.write', PR]]);
        expect(iamChecks(google.requests().slice(googleBefore)).map((c) => [c.member, c.permission])).toEqual(expect.arrayContaining([[PR, 'cloudbuild.repositories.accessReadToken']]));
      } finally {
        // The pull request is not merged: main stays where it was.
        ok('git', ['-C', repo, 'reset', '-q', '--hard', 'HEAD~1']);
        for (const [file, text] of renderedBefore) writeFileSync(file, text);
      }
    });

    if (auth === 'native') it('as the pull-request identity, an upload, a function deploy and a token for another account each get 403', () => {
      const env = envAs(PR);
      const upload = run(python, ['-m', 'twine', 'upload', '--non-interactive', '--repository-url', index.url, releasedWheel], { env: { ...env, ...TWINE_ENV }, cwd: repo });
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

    it('one trusted index: grep -r -- --extra-index-url over this repository, rendered requirements included, finds nothing', () => {
      const grep = run('grep', ['-rn', '--exclude-dir=.git', '--', '--extra-index-url', repo]);
      expect(grep.status, grep.stdout).toBe(1);
      expect(read(repo, 'functions/hello/requirements.txt')).toMatch(/^--index-url /m);
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
        const connection = role === 'roles/cloudbuild.readTokenAccessor' || binding.member === CLOUD_BUILD_AGENT;
        const doc = binding.member.includes('gcp-sa-pubsub') ? PUBSUB_AGENT_DOC : connection ? CONNECT_DOC[auth] : isFnBuild ? FN_BUILD_DOC : DOCS[role];
        expect(doc, `no document named for ${role}`).toBeDefined();
        const row = `| ${generalise(binding.member, functions)} | \`${role}\` | ${where(binding, functions)} | ${doc} |`;
        const stepsOf = proven.get(row) ?? new Set<string>();
        for (const s of needing) stepsOf.add(generalise(s.step, functions));
        proven.set(row, stepsOf);
      }
      expect(unneeded, 'bindings that no step needs').toEqual([]);
    });

    interface Policy { version?: number; bindings?: { role: string; members: string[]; condition?: { expression: string; title: string } }[] }
    /** A policy read or written as the owner, straight at the stand-in. */
    const policyCall = async (resource: string, verb: 'get' | 'set', policy?: Policy): Promise<Policy> => {
      // Artifact Registry reads a policy with GET, the other APIs with POST.
      const response = await fetch(`${google.url}v1/${resource}:${verb}IamPolicy`, {
        method: verb === 'get' && resource.includes('/repositories/') ? 'GET' : 'POST',
        headers: { Authorization: `Bearer ${tokenFor(OWNER)}`, 'Content-Type': 'application/json' },
        ...(verb === 'get' && resource.includes('/repositories/') ? {} : { body: JSON.stringify(verb === 'set' ? { policy } : {}) }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as Policy;
    };
    /** Runs STEP with RESOURCE's policy changed by EDIT, and puts the policy back. */
    const withPolicy = async (resource: string, edit: (policy: Policy) => void, step: () => void | Promise<void>) => {
      const policy = await policyCall(resource, 'get');
      const original = structuredClone(policy);
      edit(policy);
      await policyCall(resource, 'set', policy);
      try {
        await step();
      } finally {
        await policyCall(resource, 'set', { ...original, etag: undefined } as Policy);
      }
    };
    const dropMember = (policy: Policy, role: string, member: string) => {
      for (const b of policy.bindings ?? []) if (b.role === role && !b.condition) b.members = b.members.filter((m) => m !== member);
    };
    const without = (resource: string, role: string, member: string, step: () => void | Promise<void>) =>
      withPolicy(resource, (policy) => dropMember(policy, role, member), step);
    /** The binding 0.2.0 made instead: on the project, under a condition naming the resource. */
    const addConditional = (policy: Policy, role: string, member: string, expression: string, title: string) => {
      policy.version = 3;
      policy.bindings = [...(policy.bindings ?? []), { role, members: [member], condition: { expression, title } }];
    };

    it('7. removing a binding for real fails the step that needs it with 403', async () => {
      // The release's upload needs the build account's writer role on the repository.
      await without(REPOSITORY, 'roles/artifactregistry.writer', BUILD, () => {
        const result = run(python, ['-m', 'twine', 'upload', '--non-interactive', '--repository-url', index.url, releasedWheel], { env: { ...envAs(BUILD), ...TWINE_ENV }, cwd: repo });
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

    // Google reads IAM conditions on resource names for Cloud Storage and a few other services, not
    // for Artifact Registry or Cloud Run: each of the three conditional grants 0.2.0 made in place of
    // today's grants nothing, and the step that relied on it gets Google's 403.
    it('0.2.0\'s conditional grants, in place of today\'s, grant nothing: the step that relied on each gets 403', async () => {
      const project = `projects/${PROJECT}`;
      const service = (name: string) => `projects/${PROJECT}/locations/europe-west1/services/${name}`;
      if (auth === 'native') {
        // The image push: 0.2.0 let the function build account write to gcf-artifacts under a condition, and
        // deployed without --docker-repository. A new function, as 0.2.0 deployed it, is refused at the push.
        const old = 'functions/hello/cloudbuild-0.2.0.yaml';
        writeFileSync(path.join(repo, old), read(repo, 'functions/hello/cloudbuild.yaml')
          .replace(/^ *- --docker-repository=.*\n/m, '').replace(/^( *- )hello$/m, '$1hello-old'));
        try {
          await withPolicy(IMAGES_REPOSITORY, (p) => dropMember(p, 'roles/artifactregistry.writer', FN_BUILD), () =>
            withPolicy(project, (p) => addConditional(p, 'roles/artifactregistry.writer', FN_BUILD,
              `resource.name == "projects/${PROJECT}/locations/europe-west1/repositories/gcf-artifacts"`, 'arpypi: function images'), () => {
              const result = build(old, 'triggers/fn-hello.yaml', {}, false);
              expect(result.steps.map((s) => [s.id, s.status]), show(result)).toEqual([['prepare-requirements', 0], ['wait-for-release', 0], ['deploy', 1]]);
              expect(result.steps[2].stderr).toContain(`Build failed: Permission 'artifactregistry.repositories.uploadArtifacts' denied on resource 'projects/${PROJECT}/locations/europe-west1/repositories/gcf-artifacts'`);
            }));
        } finally {
          rmSync(path.join(repo, old));
        }
        // Event delivery: 0.2.0 let the trigger identity invoke under a condition naming the function's service.
        const ev = sa('ev-orders-sync');
        await withPolicy(project, (p) => {
          dropMember(p, 'roles/run.invoker', ev);
          addConditional(p, 'roles/run.invoker', ev, `resource.name == "${service('orders-sync')}"`, 'arpypi: events of orders-sync');
        }, () => {
          const before = google.requests().length;
          const published = run('gcloud', ['pubsub', 'topics', 'publish', 'orders', '--message=hi', `--project=${PROJECT}`], { env: ownerEnv });
          expect(published.status, published.stderr).toBe(0);
          const deliveries = google.requests().slice(before).flatMap((r) => (r.deliveries as { function: string; status: number; member: string }[] | undefined) ?? []);
          // (The Python 3.14 test left a failed function on the same topic: only orders-sync's delivery counts.)
          expect(deliveries.filter((d) => d.function === service('orders-sync').replace('/services/', '/functions/')).map((d) => [d.status, d.member])).toEqual([[403, ev]]);
        });
      } else {
        // Making a function public: 0.2.0 let the build account set invoker policies under a condition naming the
        // service. gcloud updates the function, then Cloud Run refuses its SetIamPolicy.
        const role = `${project}/roles/arpypiInvokerPolicy`;
        await withPolicy(project, (p) => {
          dropMember(p, role, BUILD);
          addConditional(p, role, BUILD, `resource.name == "${service('open-api')}"`, 'arpypi: make open-api public');
        }, () => {
          const result = build('functions/open-api/cloudbuild.yaml', 'triggers/fn-open-api.yaml', {}, false);
          expect(result.steps.map((s) => [s.id, s.status]), show(result)).toEqual([['prepare-requirements', 0], ['wait-for-release', 0], ['deploy', 1]]);
          // gcloud reads the service's policy before it writes it: the first of the two is refused.
          expect(result.steps[2].stderr).toMatch(/Permission 'run\.services\.getIamPolicy' denied on resource '\/\/run\.googleapis\.com\/projects\/acme-e2e-1\/locations\/europe-west1\/services\/open-api'/);
        });
      }
    });
  });

  describe('README: the least-privilege table', () => {
    it('lists exactly the bindings the end-to-end runs of both modes proved, with the steps that fail without them', () => {
      // Each mode's file leaves what it proved in a folder of this run (its workers share the parent process);
      // the second to get here compares the union with the README, the first what it proved alone.
      const shared = path.join(os.tmpdir(), `arpypi-e2e-proven-${process.ppid}`);
      mkdirSync(shared, { recursive: true });
      writeFileSync(path.join(shared, `${auth}.json`), JSON.stringify([...proven.entries()].map(([row, stepsOf]) => [row, [...stepsOf]])));
      const all = new Map<string, Set<string>>();
      const modes = readdirSync(shared).filter((f) => f.endsWith('.json'));
      for (const file of modes) {
        for (const [row, stepsOf] of JSON.parse(readFileSync(path.join(shared, file), 'utf8')) as [string, string[]][]) {
          all.set(row, new Set([...(all.get(row) ?? []), ...stepsOf]));
        }
      }
      const render = (entries: [string, Set<string>][]) => entries.map(([row, stepsOf]) => row.replace(/ \| (https:\S+) \|$/, ` | ${[...stepsOf].sort().join('; ')} | $1 |`)).sort();
      const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      const section = /<!-- least-privilege:start -->\n([\s\S]*?)<!-- least-privilege:end -->/.exec(readme)?.[1].trim() ?? '';
      const table = ['| identity | role | where | steps that fail with 403 without it | Google document |', '| --- | --- | --- | --- | --- |', ...render([...all.entries()])].join('\n');
      if (process.env.ARPYPI_WRITE_README) writeFileSync(path.join(tempDir('readme'), 'table.md'), table);
      if (modes.length === 2) {
        expect(section, `README.md needs this table between the least-privilege markers:\n${table}`).toBe(table);
      } else {
        // Alone so far: each row this mode proved is in the README, with at least these steps.
        const listed = new Map(section.split('\n').map((line) => [line.replace(/ \| [^|]* \| (https:\S+) \|$/, ' | $1 |'), line]));
        for (const [row, stepsOf] of proven) {
          expect(listed.has(row), `README.md lacks the row ${row}`).toBe(true);
          for (const step of stepsOf) expect(listed.get(row), row).toContain(step);
        }
      }
    });
  });
}

// Starts the loopback stand-ins of test/standins/ (Python, standard library only)
// and reads what they recorded.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './generate.js';
import { outcome, PYTHON, run } from './tools.js';

export const STANDINS = path.resolve(import.meta.dirname, '../standins');

export interface RecordedRequest {
  method: string;
  path: string;
  status?: number;
  query?: Record<string, unknown> | string;
  body?: unknown;
  user?: string | null;
  [key: string]: unknown;
}

export class Standin {
  constructor(
    readonly url: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly child: ChildProcess,
  ) {}

  requests(): RecordedRequest[] {
    const file = path.join(this.dataDir, 'requests.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RecordedRequest);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

export async function startStandin(script: string, args: readonly string[] = [], dataDir = tempDir(script.replace('.py', ''))): Promise<Standin> {
  const portFile = path.join(dataDir, 'port');
  const child = spawn(PYTHON, [path.join(STANDINS, script), '--port-file', portFile, '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  for (let waited = 0; !existsSync(portFile) || readFileSync(portFile, 'utf8').trim() === ''; waited += 20) {
    if (child.exitCode !== null || waited > 10_000) throw new Error(`${script} did not start: ${stderr}`);
    await sleep(20);
  }
  const port = Number(readFileSync(portFile, 'utf8').trim());
  return new Standin(`http://127.0.0.1:${port}/`, port, dataDir, child);
}

/** The stand-ins' access token of an IAM principal (test/standins/iam.py token_for). */
export const tokenFor = (member: string, suffix = 'token'): string => `ya29.loopback/${member}/${suffix}`;

/** A file holding MEMBER's token, for CLOUDSDK_AUTH_ACCESS_TOKEN_FILE and the keyring stand-in. */
export function tokenFile(member: string): string {
  const file = path.join(tempDir('token'), 'token');
  writeFileSync(file, `${tokenFor(member)}\n`);
  return file;
}

/** One permission check a stand-in made, as its request log keeps it. */
export interface IamCheck {
  member: string;
  permission: string;
  resource: string;
  /** Every binding that granted it: [resource whose policy holds it, role, condition title or '']. */
  grantedBy: [string, string, string][];
  /** Bindings that would have granted but for a condition on resource attributes the checked service does not recognise. */
  conditionNotRecognised?: [string, string, string][];
  /** Made on someone else's behalf: 'function build', 'event delivery'. */
  by?: string;
}

export const iamChecks = (requests: RecordedRequest[]): IamCheck[] => requests.flatMap((r) => (r.iam as IamCheck[] | undefined) ?? []);

/** Runs a generated repository's scripts/setup-gcp.sh without blocking, so that runs can overlap. */
export function runSetup(dir: string, args: string[], env: NodeJS.ProcessEnv, cwd = dir): Promise<{ status: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = Date.now();
  const child = spawn('bash', [path.join(dir, 'scripts/setup-gcp.sh'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return outcome(child).then((result) => ({ ...result, seconds: (Date.now() - started) / 1000 }));
}

/** The environment that points the real gcloud at a Google APIs stand-in, calling as MEMBER. */
export function gcloudEnvFor(google: Standin, project: string, member = 'user:owner@example.com'): NodeJS.ProcessEnv {
  const json = run(PYTHON, [path.join(STANDINS, 'gcloud_env.py'), '--port', String(google.port), '--project', project,
    '--config-dir', tempDir('gcloud-config'), '--identity', member, '--json']).stdout;
  return { ...process.env, ...(JSON.parse(json) as Record<string, string>) };
}

/** One call to a stand-in route as MEMBER; a non-2xx answer throws with Google's error message. */
async function standinCall<T>(google: Standin, path: string, body: unknown, member: string): Promise<T> {
  const response = await fetch(`${google.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokenFor(member)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as T & { error?: { message: string } };
  if (!response.ok) throw new Error(`${path}: ${response.status} ${answer.error?.message ?? ''}`);
  return answer;
}

/**
 * The person's browser steps for a GitHub connection (test plumbing, not Google): authorise Cloud Build
 * (PENDING_USER_OAUTH -> PENDING_INSTALL_APP), then install the Cloud Build GitHub App (-> COMPLETE) on
 * every repository of the account, or on REPOSITORIES (OWNER/NAME) only.
 * CONNECTION: projects/P/locations/R/connections/C.
 */
export async function completeGithubConnection(google: Standin, connection: string, repositories?: string[], member = 'user:owner@example.com'): Promise<void> {
  await standinCall(google, `_standin/v2/${connection}:authorizeGithub`, {}, member);
  await standinCall(google, `_standin/v2/${connection}:installGithubApp`, repositories ? { repositories } : {}, member);
}

/** What a GitHub or GitLab webhook reports: a push (a branch or a tag) or a pull request (or a comment on one). */
export type RepositoryEvent =
  | { push: { branch?: string; tag?: string; commitSha: string; changedFiles?: string[] } }
  | {
      pullRequest: {
        number: number;
        baseBranch: string;
        headBranch: string;
        commitSha: string;
        changedFiles?: string[];
        /** The author has write access to the repository (comment control). */
        authorIsWriter: boolean;
        description?: string;
        headRepoUrl?: string;
        /** Present: the event is this comment on the pull request. */
        comment?: { body: string; byWriter: boolean };
      };
    };

/** A build Cloud Build starts for an event: run its config's steps as serviceAccountEmail. */
export interface TriggeredBuild {
  /** The build's id, as gcloud builds list shows it. */
  id: string;
  /** projects/P/locations/R/triggers/NAME */
  trigger: string;
  triggerName: string;
  /** projects/P/serviceAccounts/EMAIL */
  serviceAccount: string;
  serviceAccountEmail: string;
  /** The build config, relative to the checkout (the trigger's `filename`). */
  filename: string;
  commitSha: string;
  ref: string;
  /** Cloud Build's built-in substitutions for this build (PROJECT_ID, COMMIT_SHA, ..., _PR_NUMBER on GitHub pull requests). */
  builtIns: Record<string, string>;
  /** The trigger's own substitutions. */
  substitutions: Record<string, string>;
}

export interface Delivery {
  builds: TriggeredBuild[];
  /** Triggers that matched but whose build could not start, with Cloud Build's reason. */
  failed: { trigger: string; reason: string }[];
  /** Triggers of the repository that did not match, and why. */
  skipped: { trigger: string; reason: string }[];
}

/**
 * Delivers EVENT for a linked repository (projects/P/locations/R/connections/C/repositories/REPO) and
 * returns the builds Cloud Build starts through its regional triggers (test/standins/apis/repository_events.py).
 * Throws when no event reaches Cloud Build (repository not linked, connection not COMPLETE or disabled).
 */
export function deliverEvent(google: Standin, repository: string, event: RepositoryEvent, member = 'user:owner@example.com'): Promise<Delivery> {
  return standinCall<Delivery>(google, `_standin/v2/${repository}:deliverEvent`, event, member);
}

/** deliverEvent for tests that run synchronously (the build runner does): the same call, through curl. */
export function deliverEventSync(google: Standin, repository: string, event: RepositoryEvent, member = 'user:owner@example.com'): Delivery {
  const result = run('curl', ['-sS', '-X', 'POST', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${tokenFor(member)}`, '-H', 'Content-Type: application/json',
    '--data-binary', JSON.stringify(event), `${google.url}_standin/v2/${repository}:deliverEvent`]);
  const [body, status] = [result.stdout.slice(0, result.stdout.lastIndexOf('\n')), result.stdout.slice(result.stdout.lastIndexOf('\n') + 1)];
  if (status !== '200') throw new Error(`deliverEvent: ${status} ${body}${result.stderr}`);
  return JSON.parse(body) as Delivery;
}

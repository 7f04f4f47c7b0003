// Starts the loopback stand-ins of test/standins/ (Python, standard library only)
// and reads what they recorded.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './generate.js';
import { PYTHON, run } from './tools.js';

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
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(dir, 'scripts/setup-gcp.sh'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

/** The environment that points the real gcloud at a Google APIs stand-in, calling as MEMBER. */
export function gcloudEnvFor(google: Standin, project: string, member = 'user:owner@example.com'): NodeJS.ProcessEnv {
  const json = run(PYTHON, [path.join(STANDINS, 'gcloud_env.py'), '--port', String(google.port), '--project', project,
    '--config-dir', tempDir('gcloud-config'), '--identity', member, '--json']).stdout;
  return { ...process.env, ...(JSON.parse(json) as Record<string, string>) };
}

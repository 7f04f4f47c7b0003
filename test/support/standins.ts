// Starts the loopback stand-ins of test/standins/ (Python, standard library only)
// and reads what they recorded.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './generate.js';
import { PYTHON } from './tools.js';

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

// The real tools the tests run on generated repositories. A missing tool fails the
// test with the install command: tests never skip.
import { spawnSync } from 'node:child_process';
import type { ChildProcessByStdio, SpawnSyncOptions } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], options: SpawnSyncOptions = {}): RunResult {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Runs and throws, with both outputs, unless the command exits 0. */
export function ok(cmd: string, args: readonly string[], options: SpawnSyncOptions = {}): RunResult {
  const result = run(cmd, args, options);
  if (result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** What a started child printed and how it ended (its stdout and stderr piped). */
export function outcome(child: ChildProcessByStdio<null, Readable, Readable>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export function which(cmd: string): string {
  const found = run('bash', ['-c', `command -v ${cmd}`]).stdout.trim();
  if (!found) throw new Error(`${cmd} is not installed; .ci/run installs it (see the README's test command).`);
  return found;
}

/** Debian's python3, where apt puts python3-build, python3-pytest, python3-flask and twine. */
export const PYTHON = process.env.ARPYPI_TEST_PYTHON ?? '/usr/bin/python3';

// Checked once a test file: the probe imports build, pytest and flask, some 0.4 s of CPU.
let pythonChecked = false;
export function requirePython(): string {
  if (pythonChecked) return PYTHON;
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing; apt-get install -y python3`);
  const probe = run(PYTHON, ['-c', 'import build, pytest, flask, venv, setuptools, wheel']);
  if (probe.status !== 0) {
    throw new Error(
      `${PYTHON} lacks a module the tests need (${probe.stderr.trim().split('\n').pop()}); ` +
        'apt-get install -y python3-build python3-pytest python3-flask python3-venv python3-setuptools python3-wheel',
    );
  }
  pythonChecked = true;
  return PYTHON;
}

/** gcloud's install root, from the gcloud on PATH. */
export function gcloudRoot(): string {
  return path.dirname(path.dirname(realpathSync(which('gcloud'))));
}

/**
 * gcloud's own parser, offline: "build" for build configs, "trigger" for trigger files.
 * Returns the files it rejected, with gcloud's message.
 */
export function gcloudParse(kind: 'build' | 'trigger', files: readonly string[]): { file: string; error: string }[] {
  const root = gcloudRoot();
  const bundled = path.join(root, 'platform/bundledpythonunix/bin/python3');
  const python = existsSync(bundled) ? bundled : 'python3';
  const result = run(python, [path.join(import.meta.dirname, '../tools/gcloud_parse.py'), kind, ...files], {
    env: { ...process.env, PYTHONPATH: [path.join(root, 'lib'), path.join(root, 'lib/third_party')].join(':') },
  });
  const lines = result.stdout.trim().split('\n').filter(Boolean);
  if (lines.length !== files.length) {
    throw new Error(`gcloud's parser did not report on every file:\n${result.stdout}\n${result.stderr}`);
  }
  return lines
    .map((line) => JSON.parse(line) as { file: string; ok: boolean; error?: string })
    .filter((r) => !r.ok)
    .map((r) => ({ file: r.file, error: r.error ?? '' }));
}

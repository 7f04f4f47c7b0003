// Runs a generated cloudbuild.yaml on the host, step by step, as Cloud Build would:
// substitutions applied as Cloud Build applies them (built-ins, user `_X`, `$$`,
// dynamic substitutions), then each step's `dir`, `env`, `entrypoint` and `args`.
// There is no Docker here, but a step's image still decides what it can run: the step's
// PATH holds links to the host's copies of exactly the programs its image has
// (images.ts), so an entrypoint the image lacks fails the step as Cloud Build fails it,
// and a script that calls a missing program fails on its own. The host decides which
// binary plays a program (`entrypoints`). Only steps that install tooling from the
// internet may be replaced, and each replacement carries the reason the test gives for it.
import { spawn } from 'node:child_process';
import { accessSync, appendFileSync, constants, existsSync, mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './generate.js';
import { imageContents, UnknownImageError } from './images.js';
import type { ImageContents } from './images.js';
import { loadYaml, mustMatchProblems } from './substitutions.js';
import { run } from './tools.js';

interface Step {
  id?: string;
  name: string;
  entrypoint?: string;
  args?: string[];
  dir?: string;
  env?: string[];
}

export interface Replacement {
  /** Why the step cannot run here as it is (named in the test). */
  reason: string;
  /** What runs instead; omitted: the step is skipped. */
  command?: string[];
}

export interface BuildRun {
  /** The checkout: Cloud Build's /workspace. */
  workspace: string;
  /** The build config, relative to the workspace. */
  config: string;
  /** Built-in values: PROJECT_ID and the rest. */
  builtIns: Record<string, string>;
  /** The trigger's substitutions, or `--substitutions` of a manual build. */
  substitutions?: Record<string, string>;
  /**
   * `trigger`: ALLOW_LOOSE, as trigger builds run (here an undefined name still stops
   * the step, to catch it); `manual`: MUST_MATCH, as `gcloud builds submit` runs, which
   * refuses the build before any step when the map and the template do not match.
   */
  mode?: 'trigger' | 'manual';
  /** The host's environment for every step (PATH with stand-ins, HOME, gcloud's). */
  env: NodeJS.ProcessEnv;
  /**
   * The host's binary that plays a program of an image (e.g. python -> Debian's python3),
   * for entrypoints and for what scripts call; whether the program exists is the image's say.
   */
  entrypoints?: Record<string, string>;
  replacements?: Record<string, Replacement>;
  /** Where the build log goes, as Cloud Build keeps one. */
  logFile: string;
  /**
   * Before the first step: what Cloud Build does as the build's service account before
   * running anything (with logging CLOUD_LOGGING_ONLY, writing to Cloud Logging). A
   * failure fails the build, as a build whose account may not write logs fails.
   */
  start?: () => { status: number | null; stdout: string; stderr: string };
  /** Called around each step (a test attributes what the stand-ins saw to the step). */
  around?: (id: string, phase: 'before' | 'after') => void;
}

export interface StepResult {
  id: string;
  status: number | null;
  stdout: string;
  stderr: string;
  replaced?: string;
}

export interface BuildResult {
  ok: boolean;
  steps: StepResult[];
  substitutions: Record<string, string>;
}

const REFERENCE = /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Cloud Build's expansion of one string: `$$` is a `$`, `$X`/`${X}` a value; unknown names fail. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(REFERENCE, (_all, body: string, braced?: string, bare?: string) => {
    if (body === '$') return '$';
    const name = (braced ?? bare)!;
    if (!(name in values)) throw new Error(`substitution $${name} is not defined (Cloud Build would make it empty in a trigger build)`);
    return values[name];
  });
}

/** User substitutions after the trigger's overrides and, when enabled, dynamic expansion. */
export function resolveSubstitutions(
  config: Record<string, unknown>,
  builtIns: Record<string, string>,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const user = { ...((config.substitutions ?? {}) as Record<string, string>), ...overrides };
  const dynamic = (config.options as { dynamicSubstitutions?: boolean } | undefined)?.dynamicSubstitutions === true;
  const values: Record<string, string> = { ...builtIns, ...user };
  if (dynamic) {
    // A value may refer to built-ins and to other user substitutions (one level, as bash expands them).
    for (const [key, value] of Object.entries(user)) values[key] = substitute(value, { ...builtIns, ...user });
  }
  return values;
}

export class SubstitutionError extends Error {}

interface PreparedStep {
  id: string;
  replaced?: string;
  /** Absent: the step is skipped (a replacement without a command), or refused. */
  command?: string[];
  /** The step fails before anything runs in it: its image is unknown, or lacks the entrypoint. */
  refused?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** A step's status here when it fails before it starts: docker run's for an executable it cannot find. */
const STARTING_FAILED = 127;

/**
 * Cloud Build's failure for an entrypoint the image lacks: "build step N "IMAGE" failed: starting step
 * container failed: Error response from daemon: ... exec: "set": executable file not found in $PATH:
 * unknown" (GoogleCloudPlatform/python-docs-samples issue 5175), with today's runc wording of the
 * middle part ("runc create failed: unable to start container process: exec: ...", opencontainers/runc
 * issue 4713).
 */
export const missingEntrypoint = (index: number, image: string, entrypoint: string): string =>
  `ERROR: build step ${index} "${image}" failed: starting step container failed: Error response from daemon: ` +
  'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: ' +
  `unable to start container process: exec: "${entrypoint}": executable file not found in $PATH: unknown`;

/** PATH's first executable file named NAME. */
function onPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * A folder of links to the host's copies of exactly IMAGE's programs: the step's PATH. A program the
 * image has and the host lacks is a script that says so (exit 127), not a silent absence.
 */
function imagePath(contents: ImageContents, build: BuildRun): string {
  const dir = tempDir('image-path');
  const hostPath = build.env.PATH ?? '';
  for (const program of contents.programs) {
    const chosen = build.entrypoints?.[program] ?? program;
    const host = path.isAbsolute(chosen) ? (existsSync(chosen) ? chosen : undefined) : onPath(chosen, hostPath);
    if (host) symlinkSync(host, path.join(dir, program));
    else {
      const message = `${program} is in ${contents.image} but not on this machine, so this step cannot run here; install it`;
      writeFileSync(path.join(dir, program), `#!/bin/sh\necho '${message}' >&2\nexit 127\n`, { mode: 0o755 });
    }
  }
  return dir;
}

/** The image's gcloud runs on its bundled Python; the host's gcloud is pointed at its own, by absolute path. */
function cloudSdkPython(dir: string, build: BuildRun): Record<string, string> {
  if (build.env.CLOUDSDK_PYTHON || !existsSync(path.join(dir, 'gcloud'))) return {};
  const root = path.dirname(path.dirname(realpathSync(path.join(dir, 'gcloud'))));
  const bundled = path.join(root, 'platform/bundledpythonunix/bin/python3');
  if (!existsSync(bundled)) throw new Error(`the host's gcloud under ${root} has no bundled Python; set CLOUDSDK_PYTHON in the build's env to an absolute path`);
  return { CLOUDSDK_PYTHON: bundled };
}

/** Substitutions resolved and each step turned into the command the host runs. */
function prepare(build: BuildRun): { steps: PreparedStep[]; values: Record<string, string> } {
  const config = loadYaml(path.join(build.workspace, build.config));
  if (build.mode === 'manual') {
    const problems = mustMatchProblems(config, build.substitutions);
    if (problems.length > 0) throw new SubstitutionError(`invalid value for 'build.substitutions': ${problems.join('; ')}`);
  }
  const values = resolveSubstitutions(config, build.builtIns, build.substitutions);
  mkdirSync(path.dirname(build.logFile), { recursive: true });
  const paths = new Map<string, { dir: string; env: Record<string, string> }>();
  const steps = ((config.steps ?? []) as Step[]).map((raw, index): PreparedStep => {
    const id = raw.id ?? `step-${index}`;
    const replacement = build.replacements?.[id];
    const cwd = path.join(build.workspace, substitute(raw.dir ?? '', values));
    const image = substitute(raw.name ?? '', values);
    let contents: ImageContents;
    try {
      contents = imageContents(image);
    } catch (error) {
      if (error instanceof UnknownImageError) return { id, refused: error.message, cwd, env: build.env };
      throw error;
    }
    if (replacement && !replacement.command) return { id, replaced: replacement.reason, cwd, env: build.env };
    if (!raw.entrypoint && !replacement) throw new Error(`step ${id} has no entrypoint; the runner needs one to know what to run`);
    const entrypoint = substitute(raw.entrypoint ?? '', values);
    const args = (raw.args ?? []).map((a) => substitute(a, values));
    const stepEnv = Object.fromEntries(
      (raw.env ?? []).map((pair) => {
        const [key, ...rest] = substitute(pair, values).split('=');
        return [key, rest.join('=')];
      }),
    );
    // A replacement is the test's own command on the host, not something the image runs.
    if (replacement?.command) return { id, replaced: replacement.reason, command: replacement.command, cwd, env: { ...build.env, ...stepEnv } };
    if (entrypoint.includes('/')) throw new Error(`step ${id}: entrypoint ${entrypoint} is a path; the runner models entrypoints found on the image's PATH only`);
    if (!contents.programs.has(entrypoint)) return { id, refused: missingEntrypoint(index, image, entrypoint), cwd, env: build.env };
    if (!paths.has(image)) {
      const dir = imagePath(contents, build);
      paths.set(image, { dir, env: cloudSdkPython(dir, build) });
    }
    const { dir, env } = paths.get(image)!;
    return { id, command: [path.join(dir, entrypoint), ...args], cwd, env: { ...build.env, ...env, PATH: dir, ...stepEnv } };
  });
  return { steps, values };
}

/** The build's start as its service account, if the test models it; false when it fails the build. */
function started(build: BuildRun, results: StepResult[], log: (text: string) => void): boolean {
  if (!build.start) return true;
  build.around?.('start', 'before');
  const result = build.start();
  build.around?.('start', 'after');
  log(`--- build start as its service account\n${result.stderr}`);
  if (result.status === 0) return true;
  results.push({ id: 'start', status: result.status, stdout: result.stdout, stderr: result.stderr });
  return false;
}

/** A step that fails before it starts ends the build, as Cloud Build ends it. */
function refuse(step: PreparedStep, results: StepResult[], values: Record<string, string>, log: (text: string) => void): BuildResult {
  log(`${step.refused}\n--- step ${step.id} failed with ${STARTING_FAILED}\n`);
  results.push({ id: step.id, status: STARTING_FAILED, stdout: '', stderr: step.refused! });
  return { ok: false, steps: results, substitutions: values };
}

export function runBuild(build: BuildRun): BuildResult {
  const { steps, values } = prepare(build);
  const log = (text: string) => appendFileSync(build.logFile, text);
  const results: StepResult[] = [];
  if (!started(build, results, log)) return { ok: false, steps: results, substitutions: values };
  for (const step of steps) {
    log(`--- step ${step.id}${step.replaced ? ` (replaced: ${step.replaced})` : ''}\n`);
    if (step.refused) return refuse(step, results, values, log);
    if (!step.command) {
      results.push({ id: step.id, status: 0, stdout: '', stderr: '', replaced: step.replaced });
      continue;
    }
    build.around?.(step.id, 'before');
    const result = run(step.command[0], step.command.slice(1), { cwd: step.cwd, env: step.env });
    build.around?.(step.id, 'after');
    log(result.stdout + result.stderr);
    results.push({ id: step.id, status: result.status, stdout: result.stdout, stderr: result.stderr, replaced: step.replaced });
    if (result.status !== 0) {
      log(`--- step ${step.id} failed with ${result.status}\n`);
      return { ok: false, steps: results, substitutions: values };
    }
  }
  return { ok: true, steps: results, substitutions: values };
}

/** The same, with each step a child process that does not block the test: for builds that overlap, as a push's builds do. */
export async function runBuildAsync(build: BuildRun, onStep?: (id: string) => void): Promise<BuildResult> {
  const { steps, values } = prepare(build);
  const log = (text: string) => appendFileSync(build.logFile, text);
  const results: StepResult[] = [];
  if (!started(build, results, log)) return { ok: false, steps: results, substitutions: values };
  for (const step of steps) {
    onStep?.(step.id);
    log(`--- step ${step.id}${step.replaced ? ` (replaced: ${step.replaced})` : ''}\n`);
    if (step.refused) return refuse(step, results, values, log);
    if (!step.command) {
      results.push({ id: step.id, status: 0, stdout: '', stderr: '', replaced: step.replaced });
      continue;
    }
    build.around?.(step.id, 'before');
    const child = spawn(step.command[0], step.command.slice(1), { cwd: step.cwd, env: step.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    build.around?.(step.id, 'after');
    log(stdout + stderr);
    results.push({ id: step.id, status, stdout, stderr, replaced: step.replaced });
    if (status !== 0) {
      log(`--- step ${step.id} failed with ${status}\n`);
      return { ok: false, steps: results, substitutions: values };
    }
  }
  return { ok: true, steps: results, substitutions: values };
}

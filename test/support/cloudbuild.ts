// Runs a generated cloudbuild.yaml on the host, step by step, as Cloud Build would:
// substitutions applied as Cloud Build applies them (built-ins, user `_X`, `$$`,
// dynamic substitutions), then each step's `dir`, `env`, `entrypoint` and `args`.
// There is no Docker here: a step's image is not used, its command runs with the
// host's tools. Only steps that install tooling from the internet may be replaced,
// and each replacement carries the reason the test gives for it.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadYaml } from './substitutions.js';
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
  /** The host's environment for every step (PATH with stand-ins, HOME, gcloud's). */
  env: NodeJS.ProcessEnv;
  /** Host commands for the entrypoints the steps name (e.g. python -> Debian's python3). */
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

export function runBuild(build: BuildRun): BuildResult {
  const config = loadYaml(path.join(build.workspace, build.config));
  const values = resolveSubstitutions(config, build.builtIns, build.substitutions);
  mkdirSync(path.dirname(build.logFile), { recursive: true });
  const log = (text: string) => appendFileSync(build.logFile, text);
  const results: StepResult[] = [];
  if (build.start) {
    build.around?.('start', 'before');
    const started = build.start();
    build.around?.('start', 'after');
    log(`--- build start as its service account\n${started.stderr}`);
    if (started.status !== 0) {
      results.push({ id: 'start', status: started.status, stdout: started.stdout, stderr: started.stderr });
      return { ok: false, steps: results, substitutions: values };
    }
  }
  for (const [index, raw] of ((config.steps ?? []) as Step[]).entries()) {
    const id = raw.id ?? `step-${index}`;
    const replacement = build.replacements?.[id];
    log(`--- step ${id}${replacement ? ` (replaced: ${replacement.reason})` : ''}\n`);
    if (replacement && !replacement.command) {
      results.push({ id, status: 0, stdout: '', stderr: '', replaced: replacement.reason });
      continue;
    }
    if (!raw.entrypoint && !replacement) throw new Error(`step ${id} has no entrypoint; the runner needs one to know what to run`);
    const entrypoint = substitute(raw.entrypoint ?? '', values);
    const args = (raw.args ?? []).map((a) => substitute(a, values));
    const stepEnv = Object.fromEntries(
      (raw.env ?? []).map((pair) => {
        const [key, ...rest] = substitute(pair, values).split('=');
        return [key, rest.join('=')];
      }),
    );
    const command = replacement?.command ?? [build.entrypoints?.[entrypoint] ?? entrypoint, ...args];
    const cwd = path.join(build.workspace, substitute(raw.dir ?? '', values));
    build.around?.(id, 'before');
    const result = run(command[0], command.slice(1), { cwd, env: { ...build.env, ...stepEnv } });
    build.around?.(id, 'after');
    log(result.stdout + result.stderr);
    results.push({ id, status: result.status, stdout: result.stdout, stderr: result.stderr, replaced: replacement?.reason });
    if (result.status !== 0) {
      log(`--- step ${id} failed with ${result.status}\n`);
      return { ok: false, steps: results, substitutions: values };
    }
  }
  return { ok: true, steps: results, substitutions: values };
}

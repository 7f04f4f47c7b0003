// Raw input (flags, .yo-rc.json, prompts) -> a complete, checked Answers object.
// Nothing here writes a file: errors are thrown before any template is rendered.
import { APP_OPTIONS, FUNCTION_NAME, FUNCTION_OPTIONS } from './options.js';
import type { DefaultContext, OptionSpec } from './options.js';
import * as rules from './rules.js';
import type { AuthMode, GitHost, IndexLayout, TriggerKinds } from './rules.js';

/** Bad input: its message is meant for the user as is, one sentence per problem. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Where a value came from: a flag, a prompt, or `.yo-rc.json` (optionally under a prefix such as functions.NAME.). */
export type Source = 'flag' | 'stored' | 'answer' | { stored: string };

export interface AppAnswers {
  projectId: string;
  region: string;
  repository: string;
  gitHost: GitHost;
  githubOwner: string;
  githubRepo: string;
  branch: string;
  triggers: TriggerKinds;
  connection: string;
  packageName: string;
  pythonVersion: string;
  functionRegion: string;
  auth: AuthMode;
  index: IndexLayout;
}

export interface FunctionAnswers {
  name: string;
  /** Set apart from the Python version (never older than it); absent: the Python version's runtime. */
  runtime?: string;
  memory: string;
  timeout: string;
  entryPoint: string;
  /** http, topic:TOPIC or bucket:BUCKET */
  trigger: string;
  /** Runtime identity given by the user; absent: the dedicated account. */
  serviceAccount?: string;
  allowUnauthenticated: boolean;
}

export const STORED_APP_KEYS = APP_OPTIONS.filter((o) => o.key !== 'function').map((o) => o.key);

export const where = (spec: OptionSpec, source: Source): string =>
  source === 'flag'
    ? spec.flag === 'NAME' ? 'The function name' : `--${spec.flag}`
    : source === 'answer'
      ? 'The answer'
      : `"${typeof source === 'object' ? source.stored : ''}${spec.key}" in .yo-rc.json`;

/** One sentence naming the flag (or stored key), the value and the rule, or null. */
export function ruleViolation(spec: OptionSpec, value: unknown, source: Source): string | null {
  if (spec.type === 'boolean') {
    if (typeof value === 'boolean') return null;
    return source === 'flag' ? `${where(spec, source)} takes no value (it is a switch).` : `${where(spec, source)} must be true or false.`;
  }
  if (typeof value !== 'string') return `${where(spec, source)} must be a string, not ${JSON.stringify(value)}.`;
  if (value === '') return source === 'answer' ? `${spec.message ?? spec.key} is required.` : `${where(spec, source)} needs a value.`;
  const broken = spec.check?.(value);
  return broken ? `${where(spec, source)} ${JSON.stringify(value)} ${broken}.` : null;
}

/** The values among `input` that these specs declare, coerced to their type. */
export function pickValues(specs: readonly OptionSpec[], input: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = input[spec.key];
    if (value === undefined || value === null) continue;
    // yo parses a bare `--region` as true and `--python-version 3.12` may arrive as a number.
    picked[spec.key] = spec.type === 'string' && typeof value === 'number' ? String(value) : value;
  }
  return picked;
}

/**
 * The stored answers a run starts from. A function region that only ever followed the
 * region (never given apart from it) follows a new --region too.
 */
export function carriedOver(stored: Record<string, unknown>, given: Record<string, unknown>): Record<string, unknown> {
  const carried = { ...stored };
  // A repository generated before --triggers existed keeps its GitHub App triggers until asked.
  if (stored.projectId !== undefined && stored.triggers === undefined) carried.triggers = 'github-app';
  if (given.region !== undefined && given.functionRegion === undefined && stored.functionRegion === stored.region) {
    delete carried.functionRegion;
  }
  return carried;
}

/** Every rule the given values break, one sentence each. */
export function violations(specs: readonly OptionSpec[], values: Record<string, unknown>, source: Source): string[] {
  return specs
    .filter((spec) => values[spec.key] !== undefined)
    .map((spec) => ruleViolation(spec, values[spec.key], source))
    .filter((m): m is string => m !== null);
}

export function assertValid(specs: readonly OptionSpec[], values: Record<string, unknown>, source: Source): void {
  const problems = violations(specs, values, source);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
}

/** Fill what is still missing from each option's default; report what has none. */
export function withDefaults(
  specs: readonly OptionSpec[],
  values: Record<string, unknown>,
  ctx: Omit<DefaultContext, 'values'>,
): { values: Record<string, unknown>; missing: OptionSpec[] } {
  const filled = { ...values };
  const missing: OptionSpec[] = [];
  for (const spec of specs) {
    if (filled[spec.key] !== undefined) continue;
    const value = spec.default?.({ ...ctx, values: filled });
    if (value !== undefined) filled[spec.key] = value;
    else if (!spec.optional) missing.push(spec);
  }
  return { values: filled, missing };
}

export function missingError(missing: OptionSpec[], why: string): UsageError {
  const flags = missing.map((o) => `--${o.flag}`).join(', ');
  return new UsageError(`Missing ${flags}: ${why}.`);
}

/** Cross-option rules, once every value is there. Returns warnings to show. */
export function finishApp(values: Record<string, unknown>): { answers: AppAnswers; warnings: string[] } {
  const answers = Object.fromEntries(STORED_APP_KEYS.map((k) => [k, values[k]])) as unknown as AppAnswers;
  assertValid(APP_OPTIONS, answers as unknown as Record<string, unknown>, 'flag');
  // The rules between answers, once each has passed its own.
  if (answers.gitHost === 'gitlab' && answers.triggers === 'github-app') {
    throw new UsageError('--git-host gitlab needs --triggers connection: GitHub App triggers (1st gen) reach GitHub only.');
  }
  const owner = answers.gitHost === 'gitlab' ? rules.gitlabNamespace(answers.githubOwner) : rules.githubOwner(answers.githubOwner);
  if (owner) throw new UsageError(`--github-owner ${JSON.stringify(answers.githubOwner)} ${owner}.`);
  const warnings: string[] = [];
  const module = rules.importName(answers.packageName);
  if (rules.shadowedByStandardLibrary(module)) {
    warnings.push(
      `--package-name ${answers.packageName} gives the import name "${module}", which Python's standard library has already: import ${module} would find the standard library's module, not your package; consider another name.`,
    );
  }
  if ((rules.DEPRECATED_PYTHON_VERSIONS as readonly string[]).includes(answers.pythonVersion)) {
    warnings.push(
      `--python-version ${answers.pythonVersion} is deprecated on Cloud Functions (python310 since 2026-10-04, decommissioned 2027-04-04); plan a move to 3.12 or later.`,
    );
  }
  return { answers, warnings };
}

/** The rule that ties the timeout to the trigger, as the end of a sentence, or null. */
export function timeoutForTrigger(timeout: unknown, trigger: unknown): string | null {
  const seconds = Number(String(timeout).replace(/s$/, ''));
  return (trigger ?? 'http') !== 'http' && seconds > rules.EVENT_TIMEOUT_LIMIT
    ? `is over ${rules.EVENT_TIMEOUT_LIMIT}s, the most a 2nd gen function triggered by a topic or bucket may run`
    : null;
}

const specOf = (key: string): OptionSpec => FUNCTION_OPTIONS.find((o) => o.key === key)!;

/** The rule between a function's runtime and the package's Python version, as a sentence, or null. */
export function runtimeViolation(runtime: unknown, pythonVersion: string, source: Source): string | null {
  if (typeof runtime !== 'string') return null;
  const broken = rules.runtimeForPython(runtime, pythonVersion);
  return broken ? `${where(specOf('runtime'), source)} ${JSON.stringify(runtime)} ${broken}.` : null;
}

/**
 * A function's answers, checked. A runtime equal to the Python version's is not kept, so
 * that the function follows a later --python-version; one set apart must not be older.
 */
export function finishFunction(name: string, values: Record<string, unknown>, pythonVersion: string, source: Source = 'flag'): FunctionAnswers {
  const problem = ruleViolation(FUNCTION_NAME, name, source === 'flag' ? 'flag' : source);
  if (problem) throw new UsageError(problem);
  assertValid(FUNCTION_OPTIONS, values, source);
  const trigger = (values.trigger as string | undefined) ?? 'http';
  const late = timeoutForTrigger(values.timeout, trigger);
  if (late) throw new UsageError(`${where(specOf('timeout'), source)} "${values.timeout}" ${late}.`);
  const old = runtimeViolation(values.runtime, pythonVersion, source);
  if (old) throw new UsageError(old);
  const runtime = values.runtime === rules.runtimeFor(pythonVersion) ? undefined : (values.runtime as string | undefined);
  return {
    name,
    ...(runtime !== undefined ? { runtime } : {}),
    memory: values.memory as string,
    timeout: values.timeout as string,
    entryPoint: values.entryPoint as string,
    trigger,
    ...(typeof values.serviceAccount === 'string' ? { serviceAccount: values.serviceAccount } : {}),
    allowUnauthenticated: values.allowUnauthenticated === true,
  };
}

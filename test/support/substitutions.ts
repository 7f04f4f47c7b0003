// Cloud Build's substitution rules, as the tests need them: which `$NAME`s a build
// config uses, and whether each one resolves. Trigger builds run with ALLOW_LOOSE,
// so nothing in Google's tooling reports an undefined one: this does.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** Built-in substitutions (FACTS.md), trigger builds' included. */
export const BUILT_INS = new Set([
  'PROJECT_ID', 'BUILD_ID', 'PROJECT_NUMBER', 'LOCATION', 'TRIGGER_NAME', 'COMMIT_SHA', 'REVISION_ID',
  'SHORT_SHA', 'REPO_NAME', 'REPO_FULL_NAME', 'BRANCH_NAME', 'TAG_NAME', 'REF_NAME',
  'TRIGGER_BUILD_CONFIG_PATH', 'SERVICE_ACCOUNT_EMAIL', 'SERVICE_ACCOUNT',
]);

/** Built-ins a manual build (`gcloud builds submit`) has: no trigger, no commit, no branch. */
export const MANUAL_BUILT_INS = new Set(['PROJECT_ID', 'BUILD_ID', 'PROJECT_NUMBER', 'LOCATION']);

/** `$$` (a literal dollar), `${NAME}` or `$NAME`; anything else after a `$` is malformed. */
const REFERENCE = /\$(\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*)|)/g;
const VALID_NAME = /^(?:_[A-Z0-9_]+|[A-Z][A-Z0-9_]*)$/;

export interface Reference {
  name: string;
  where: string;
}

/** Every substitution a string refers to; a malformed `$` gives the name "" . */
export function referencesIn(text: string, where: string): Reference[] {
  const found: Reference[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    if (match[1] === '$') continue;
    found.push({ name: match[2] ?? match[3] ?? '', where });
  }
  return found;
}

/** Every string in a parsed build config that Cloud Build substitutes into. */
function* substitutedStrings(value: unknown, where: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [value, where];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* substitutedStrings(v, `${where}[${i}]`);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* substitutedStrings(v, `${where}.${k}`);
  }
}

export interface TriggerFile {
  file: string;
  trigger: { name: string; filename: string; substitutions?: Record<string, string>; includedFiles?: string[] };
}

export const loadYaml = (file: string): Record<string, unknown> =>
  parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/**
 * Problems with one build config as run by one trigger (or by hand, without one):
 * references that resolve to nothing, malformed names, trigger substitutions the
 * config never uses.
 */
export function substitutionProblems(configFile: string, triggerSubstitutions: Record<string, string> = {}): string[] {
  const config = loadYaml(configFile);
  const own = (config.substitutions ?? {}) as Record<string, string>;
  const defined = new Set([...BUILT_INS, ...Object.keys(own), ...Object.keys(triggerSubstitutions)]);
  const problems: string[] = [];
  const used = new Set<string>();
  const { substitutions: _values, ...rest } = config;
  const strings = [...substitutedStrings(rest, ''), ...substitutedStrings(own, '.substitutions')];
  for (const [text, where] of strings) {
    for (const ref of referencesIn(text, where)) {
      used.add(ref.name);
      if (!VALID_NAME.test(ref.name)) problems.push(`${configFile}${ref.where}: "$${ref.name}" is not a substitution name (write $$ for a literal $)`);
      else if (!defined.has(ref.name)) problems.push(`${configFile}${ref.where}: $${ref.name} is defined by neither the config, its trigger nor Cloud Build`);
    }
  }
  for (const name of [...Object.keys(own), ...Object.keys(triggerSubstitutions)]) {
    if (!VALID_NAME.test(name) || !name.startsWith('_')) problems.push(`${configFile}: substitution ${name} does not match _[A-Z0-9_]+`);
    if (!used.has(name)) problems.push(`${configFile}: substitution ${name} is defined but never used`);
  }
  return problems;
}

/**
 * A trigger must set every substitution its config declares, derived ones (whose
 * value refers to others) aside: the trigger is where a region or repository changes.
 */
export function missingFromTrigger(configFile: string, triggerSubstitutions: Record<string, string> = {}): string[] {
  const own = (loadYaml(configFile).substitutions ?? {}) as Record<string, string>;
  return Object.entries(own)
    .filter(([name, value]) => !String(value).includes('$') && !(name in triggerSubstitutions))
    .map(([name]) => name);
}

/** Every build config of a repository with the trigger that runs it. */
export function pipelines(dir: string, triggerFiles: readonly string[]): { config: string; trigger: TriggerFile }[] {
  return triggerFiles.map((file) => {
    const trigger = loadYaml(path.join(dir, file)) as TriggerFile['trigger'];
    return { config: path.join(dir, trigger.filename), trigger: { file, trigger } };
  });
}

/**
 * Cloud Build's MUST_MATCH check, which manual builds (`gcloud builds submit`) run
 * under: "fails the build if error in substitutions checks, like missing a
 * substitution in the template or in the map" (Cloud Build API, Build.options
 * substitutionOption). Google does not say whether a use inside another
 * substitution's value counts as a use; this takes the strict reading: a key of the
 * map counts as used only when a step (or another field outside `substitutions`)
 * names it, so a config that passes here passes under either reading.
 */
export function mustMatchProblems(config: Record<string, unknown>, overrides: Record<string, string> = {}): string[] {
  const own = (config.substitutions ?? {}) as Record<string, string>;
  const map = { ...own, ...overrides };
  const { substitutions: _values, ...template } = config;
  const inTemplate = new Set<string>();
  for (const [text, where] of substitutedStrings(template, '')) for (const ref of referencesIn(text, where)) inTemplate.add(ref.name);
  const inValues = new Set<string>();
  for (const [text, where] of substitutedStrings(map, '.substitutions')) for (const ref of referencesIn(text, where)) inValues.add(ref.name);
  const problems: string[] = [];
  for (const name of [...inTemplate, ...inValues]) {
    if (!(name in map) && !MANUAL_BUILT_INS.has(name)) problems.push(`key in the template "${name}" is not matched in the substitution data`);
  }
  for (const name of Object.keys(map)) {
    if (!inTemplate.has(name)) problems.push(`key "${name}" in the substitution data is not matched in the template`);
  }
  return [...new Set(problems)];
}

/** `gcloud builds submit --config=C [--substitutions=K=V,...]` lines of a README: each manual build it documents. */
export function documentedManualBuilds(readme: string): { config: string; substitutions: Record<string, string> }[] {
  return [...readme.matchAll(/^gcloud builds submit (.*)$/gm)].map((m) => {
    const config = /--config=(\S+)/.exec(m[1])?.[1];
    if (!config) throw new Error(`a documented manual build names no --config: ${m[0]}`);
    const subs = /--substitutions=(\S+)/.exec(m[1])?.[1];
    const substitutions = Object.fromEntries((subs ? subs.split(',') : []).map((pair) => pair.split(/=(.*)/s).slice(0, 2) as [string, string]));
    return { config, substitutions };
  });
}

interface PipStep {
  id?: string;
  dir?: string;
  args?: string[];
}

/**
 * The `pip install` steps of a build config that do not pass `-c` with the
 * repository's constraints file (resolved from the step's dir), and the packages
 * each installs by bare name that the constraints file does not pin.
 */
export function pipInstallProblems(configFile: string, repoRoot: string, constraints = 'constraints.txt'): string[] {
  const config = loadYaml(configFile);
  const pinned = new Set(
    readFileSync(path.join(repoRoot, constraints), 'utf8')
      .split('\n')
      .map((l) => /^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+$/.exec(l.trim())?.[1]?.toLowerCase().replace(/[-_.]+/g, '-'))
      .filter((n): n is string => Boolean(n)),
  );
  const problems: string[] = [];
  for (const step of (config.steps ?? []) as PipStep[]) {
    const args = step.args ?? [];
    const at = args.findIndex((a, i) => a === 'pip' && args[i + 1] === 'install');
    if (at < 0) continue;
    const rest = args.slice(at + 2);
    const c = rest.findIndex((a) => a === '-c' || a === '--constraint');
    const where = `${path.relative(repoRoot, configFile)} step ${step.id}`;
    const named = rest.filter((a, i) => !a.startsWith('-') && !['-c', '--constraint', '-r'].includes(rest[i - 1]) && /^[A-Za-z][A-Za-z0-9._-]*$/.test(a));
    // A function's own dependencies (-r requirements.txt) and local paths follow their own pins, not the tools'.
    if (named.length === 0) continue;
    if (c < 0 || path.resolve(repoRoot, step.dir ?? '', rest[c + 1] ?? '') !== path.resolve(repoRoot, constraints)) {
      problems.push(`${where}: pip install without -c ${constraints}`);
      continue;
    }
    for (const name of named) {
      if (!pinned.has(name.toLowerCase().replace(/[-_.]+/g, '-'))) problems.push(`${where}: ${name} is not pinned in ${constraints}`);
    }
  }
  return problems;
}

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

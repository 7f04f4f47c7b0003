// Command-line words -> which command, with which values, keyed as in .yo-rc.json. Both
// doors hand their words here (the bin its argv; the yo door the words after
// `yo arpypi` or `yo arpypi:function`), so both take and refuse exactly the same.
import { parseArgs } from 'node:util';
import { UsageError } from './answers.js';
import { APP_OPTIONS, FUNCTION_NAME, FUNCTION_OPTIONS, REMOVE_OPTION, RUN_OPTIONS } from './options.js';
import type { DefaultContext, OptionSpec } from './options.js';

export type CommandName = 'app' | 'function';

export interface Invocation {
  command: CommandName;
  /** The function's name, for the function command. */
  name?: string;
  /** Values of the options table's flags, camelCase as in .yo-rc.json. */
  flags: Record<string, unknown>;
  yes: boolean;
  force: boolean;
  dryRun: boolean;
  help: boolean;
  version: boolean;
  remove: boolean;
}

/** How each door spells a command, for help and for messages that show both. */
export const SPELLING: Record<CommandName, { bin: string; yo: string }> = {
  app: { bin: 'arpypi', yo: 'yo arpypi' },
  function: { bin: 'arpypi function NAME', yo: 'yo arpypi:function NAME' },
};
const both = (command: CommandName): string => `${SPELLING[command].bin}, or ${SPELLING[command].yo}`;

export const TABLE: Record<CommandName, readonly OptionSpec[]> = { app: APP_OPTIONS, function: FUNCTION_OPTIONS };
const runOptions = (command: CommandName): readonly OptionSpec[] => (command === 'function' ? [...RUN_OPTIONS, REMOVE_OPTION] : RUN_OPTIONS);
const specsOf = (command: CommandName): readonly OptionSpec[] => [...TABLE[command], ...runOptions(command)];

export function parseCommandLine(command: CommandName, args: readonly string[]): Invocation {
  const specs = specsOf(command);
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  // Not strict: unknown flags and missing values are reported below, one sentence each.
  const { tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(specs.map((s) => [s.flag, { type: s.type }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const raw: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const negated = token.name.startsWith('no-') && byFlag.get(token.name.slice(3))?.type === 'boolean';
    const spec = byFlag.get(negated ? token.name.slice(3) : token.name);
    if (!spec) throw new UsageError(unknownFlag(token.rawName, command));
    if (raw[spec.key] !== undefined) throw new UsageError(`--${spec.flag} is given more than once; give it once.`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) {
        throw new UsageError(`--${spec.flag} takes no value (it is a switch): write --${spec.flag} for yes, or --no-${spec.flag} (or nothing) for no.`);
      }
      raw[spec.key] = !negated;
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      throw new UsageError(`--${spec.flag} needs a value, as in --${spec.flag} VALUE.`);
    } else {
      raw[spec.key] = token.value;
    }
  }

  const steering = new Set(runOptions(command).map((s) => s.key));
  const invocation: Invocation = {
    command,
    flags: Object.fromEntries(Object.entries(raw).filter(([key]) => !steering.has(key))),
    yes: raw.yes === true,
    force: raw.force === true,
    dryRun: raw.dryRun === true,
    help: raw.help === true,
    version: raw.version === true,
    remove: raw.remove === true,
  };
  if (invocation.help || invocation.version) return invocation;
  if (command === 'function') {
    if (positionals.length > 1) {
      throw new UsageError(`The function command takes one NAME, and got ${positionals.length}: ${positionals.join(' ')}.`);
    }
    invocation.name = positionals[0];
    if (invocation.remove && Object.keys(invocation.flags).length > 0) {
      throw new UsageError(`--remove takes no other function flag (got --${specs.find((s) => s.key === Object.keys(invocation.flags)[0])!.flag}).`);
    }
  } else if (positionals.length > 0) {
    throw new UsageError(
      positionals[0] === 'function'
        ? `Put function first, then its NAME and the flags: ${both('function')} [options].`
        : `Unexpected argument "${positionals[0]}": the repository command takes only flags (${both('app')} [options]); a function is added with ${both('function')}.`,
    );
  }
  return invocation;
}

/**
 * Values handed over by a program rather than typed (yeoman-test, a composing generator):
 * only the table's keys, camelCase, checked by the same rules afterwards.
 */
export function fromOptions(command: CommandName, options: Record<string, unknown>, args: readonly string[]): Invocation {
  const flags: Record<string, unknown> = {};
  for (const spec of TABLE[command]) {
    const value = options[spec.key];
    if (value !== undefined && value !== null) flags[spec.key] = typeof value === 'number' ? String(value) : value;
  }
  return {
    command,
    ...(command === 'function' && args[0] !== undefined ? { name: args[0] } : {}),
    flags,
    yes: options.yes === true,
    force: options.force === true,
    dryRun: options.dryRun === true,
    help: false,
    version: false,
    remove: options.remove === true,
  };
}

function unknownFlag(rawName: string, command: CommandName): string {
  const name = rawName.replace(/^-+/, '');
  const other: CommandName = command === 'app' ? 'function' : 'app';
  if (TABLE[other].some((s) => s.flag === name)) {
    return command === 'app'
      ? `${rawName} is a flag of the function command (${both('function')}), not of the repository command.`
      : `${rawName} is a flag of the repository command (${both('app')}), not of the function command; change it there with --yes.`;
  }
  const near = nearest(name, specsOf(command).map((s) => s.flag));
  return `Unknown flag ${rawName}${near ? ` (did you mean --${near}?)` : ''}; --help lists the flags.`;
}

/** The closest flag by edit distance, when it is close enough to be a typo. */
function nearest(name: string, flags: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const flag of flags) {
    const d = distance(name, flag);
    if (d < bestDistance) [best, bestDistance] = [flag, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/** A default as help shows it, computed without asking gcloud or reading the folder. */
function shownDefault(spec: OptionSpec): string | undefined {
  const ctx: DefaultContext = { values: { region: 'us-central1', pythonVersion: '3.12' }, folderName: '', gcloudProject: () => undefined };
  const value = spec.default?.(ctx);
  if (spec.key === 'projectId') return 'gcloud config get-value project';
  if (spec.key === 'githubRepo') return 'the folder name';
  if (spec.key === 'functionRegion') return '--region, when that is a region';
  if (spec.key === 'runtime') return 'from --python-version, e.g. python312';
  return value === undefined || value === false ? undefined : String(value);
}

export function helpText(command: CommandName, door: 'bin' | 'yo'): string {
  const usage = `${SPELLING[command][door]} [options]`;
  const section = (title: string, specs: readonly OptionSpec[]): string[] => {
    const label = (s: OptionSpec) => `  --${s.flag}${s.type === 'string' ? ' VALUE' : ''}`;
    const width = Math.max(...specs.map((s) => label(s).length)) + 2;
    return [
      title,
      ...specs.map((s) => {
        const shown = shownDefault(s);
        const description = s.description.replace(/ \(default: [^)]*\)|; default \w+$/, '');
        return `${label(s).padEnd(width)}${description}${shown ? ` [default: ${shown}]` : ''}`;
      }),
      '',
    ];
  };
  const lines = [
    `Usage: ${usage}`,
    '',
    command === 'app'
      ? 'Lays out the repository, or re-renders it with new answers. Answers are stored in\n.yo-rc.json; missing ones are asked for, or taken from defaults under --yes.'
      : `Adds functions/NAME and its trigger to a repository made by ${SPELLING.app[door]}, or removes one (--remove).\n${FUNCTION_NAME.message}; asked for when not given.`,
    '',
    ...section(command === 'app' ? 'Options:' : 'Options of the function:', TABLE[command]),
    ...section('Run options:', runOptions(command)),
    command === 'app' ? `Add a function later with: ${SPELLING.function[door]} (see its --help).` : "Run it in the repository's root folder.",
  ];
  return `${lines.join('\n')}\n`;
}

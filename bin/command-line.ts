// argv -> which command, with which values, keyed as in .yo-rc.json. The flags are
// the options table's, so `arpypi` takes exactly what `yo arpypi` takes.
import { parseArgs } from 'node:util';
import { UsageError } from '../generators/core/answers.js';
import { APP_OPTIONS, FUNCTION_OPTIONS, RUN_OPTIONS } from '../generators/core/options.js';
import type { OptionSpec } from '../generators/core/options.js';

export type CommandName = 'app' | 'function';

export interface Command {
  name: CommandName;
  /** The function's name, for `arpypi function NAME`. */
  functionName?: string;
  /** Values of the options table's flags, camelCase as in .yo-rc.json. */
  values: Record<string, unknown>;
  yes: boolean;
  force: boolean;
  dryRun: boolean;
  help: boolean;
  version: boolean;
}

/** Flags of the bin itself, beside the table's; Yeoman gives `yo` the same --force. */
const BIN_OPTIONS: readonly (OptionSpec & { short?: string })[] = [
  { key: 'force', flag: 'force', short: 'f', type: 'boolean', description: 'Overwrite files you edited since the last run (they are kept and reported otherwise)' },
  { key: 'dryRun', flag: 'dry-run', type: 'boolean', description: 'Print what would be created or changed, file by file, and write nothing' },
  { key: 'help', flag: 'help', short: 'h', type: 'boolean', description: 'Print this help' },
  { key: 'version', flag: 'version', type: 'boolean', description: 'Print the generator version' },
];

const TABLE: Record<CommandName, readonly OptionSpec[]> = {
  app: APP_OPTIONS,
  function: FUNCTION_OPTIONS,
};

const USAGE: Record<CommandName, string> = {
  app: 'arpypi [options]',
  function: 'arpypi function NAME [options]',
};

const specsOf = (name: CommandName): readonly (OptionSpec & { short?: string })[] => [...TABLE[name], ...runOptions()];

/** The table's run options, then the bin's own (those the table does not declare yet). */
const runOptions = (): readonly (OptionSpec & { short?: string })[] => [
  ...RUN_OPTIONS,
  ...BIN_OPTIONS.filter((b) => !RUN_OPTIONS.some((r) => r.flag === b.flag)),
];

export function parseCommandLine(argv: readonly string[]): Command {
  const name: CommandName = argv[0] === 'function' ? 'function' : 'app';
  const args = name === 'function' ? argv.slice(1) : [...argv];
  const specs = specsOf(name);
  const byFlag = new Map(specs.map((s) => [s.flag, s]));

  // Not strict: unknown flags and missing values are reported below, in one sentence each.
  const { tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(specs.map((s) => [s.flag, { type: s.type, ...(s.short ? { short: s.short } : {}) }])),
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
    // parseArgs names a known short flag (-f) by its long name.
    const spec = byFlag.get(negated ? token.name.slice(3) : token.name);
    if (!spec) throw new UsageError(unknownFlag(token.rawName, name));
    if (spec.type === 'boolean') {
      raw[spec.key] = token.value === undefined ? !negated : token.value;
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      throw new UsageError(`--${spec.flag} needs a value, as in --${spec.flag} VALUE.`);
    } else {
      raw[spec.key] = token.value;
    }
  }

  const switches = ['yes', 'force', 'dryRun', 'help', 'version'];
  for (const key of switches) {
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean') {
      throw new UsageError(`--${specs.find((s) => s.key === key)!.flag} takes no value (it is a switch).`);
    }
  }
  const command: Command = {
    name,
    values: Object.fromEntries(Object.entries(raw).filter(([key]) => !switches.includes(key))),
    yes: raw.yes === true,
    force: raw.force === true,
    dryRun: raw.dryRun === true,
    help: raw.help === true,
    version: raw.version === true,
  };
  if (command.help || command.version) return command;

  if (name === 'function') {
    if (positionals.length > 1) {
      throw new UsageError(`arpypi function takes one NAME, and got ${positionals.length}: ${positionals.join(' ')}.`);
    }
    command.functionName = positionals[0];
  } else if (positionals.includes('function')) {
    throw new UsageError('Put function first, then its NAME and the flags: arpypi function NAME [options].');
  } else if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]}": run arpypi [options] for the repository, or arpypi function NAME [options] for a function.`,
    );
  }
  return command;
}

function unknownFlag(rawName: string, command: CommandName): string {
  const name = rawName.replace(/^-+/, '');
  const other: CommandName = command === 'app' ? 'function' : 'app';
  const elsewhere = TABLE[other].find((s) => s.flag === name);
  if (elsewhere) {
    return command === 'app'
      ? `${rawName} is a flag of arpypi function NAME, not of arpypi; add the function with arpypi function NAME ${rawName} VALUE.`
      : `${rawName} is a flag of arpypi (the repository), not of arpypi function; change it with arpypi ${rawName} VALUE --yes.`;
  }
  const near = nearest(name, specsOf(command).map((s) => s.flag));
  return `Unknown flag ${rawName}${near ? ` (did you mean --${near}?)` : ''}; ${command === 'app' ? 'arpypi --help' : 'arpypi function --help'} lists the flags.`;
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

export function helpText(command: CommandName): string {
  const section = (title: string, specs: readonly (OptionSpec & { short?: string })[]): string[] => {
    const label = (s: OptionSpec & { short?: string }) =>
      `${s.short ? `-${s.short}, ` : '    '}--${s.flag}${s.type === 'string' ? ' VALUE' : ''}`;
    const width = Math.max(...specs.map((s) => label(s).length)) + 2;
    return [title, ...specs.map((s) => `  ${label(s).padEnd(width)}${s.description}`), ''];
  };
  const lines = [
    `Usage: ${USAGE[command]}`,
    '',
    command === 'app'
      ? 'Lays out the repository (what yo arpypi does), or re-renders it with new answers.\nAnswers are stored in .yo-rc.json; missing ones are asked for, or taken from defaults under --yes.'
      : 'Adds functions/NAME and its trigger (what yo arpypi:function NAME does) to a repository made by arpypi.',
    '',
    ...section(command === 'app' ? 'Options:' : 'Options of the function:', TABLE[command]),
    ...section('Run options:', runOptions()),
    command === 'app' ? `Add a function later with: ${USAGE.function} (see arpypi function --help).` : 'Run it in the repository\'s root folder.',
  ];
  return `${lines.join('\n')}\n`;
}

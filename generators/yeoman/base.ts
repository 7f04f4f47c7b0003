// The yo door: Yeoman's lifecycle around the core's one run. It hands the core the words
// typed after `yo arpypi` (or the options of a program that runs it), asks through
// Yeoman's this.prompt, and commits through the core's atomic writer (mem-fs-editor's
// commit writes file by file and cannot put back what it wrote when a later file fails).
import { realpathSync } from 'node:fs';
import Generator from 'yeoman-generator';
import type { Ask } from '../core/ask.js';
import { fromOptions, helpText, parseCommandLine } from '../core/command-line.js';
import type { CommandName, Invocation } from '../core/command-line.js';
import { COMMANDS } from '../core/commands/index.js';
import { generatorVersion } from '../core/package-root.js';
import { run } from '../core/run.js';
import type { Outcome } from '../core/run.js';

/** yo's own flags, which yo reads itself and also hands on. */
const YO_FLAGS = new Set(['--insight', '--no-insight', '--local-only', '--debug', '--skip-install', '--skip-cache', '--no-color']);

/** The words typed after the generator's name, when the process is the yo command line; else undefined. */
function typedWords(): string[] | undefined {
  let script: string;
  try {
    script = realpathSync(process.argv[1] ?? '');
  } catch {
    return undefined;
  }
  if (!/[/\\]yo[/\\]lib[/\\]cli\.js$/.test(script)) return undefined;
  const words = process.argv.slice(2);
  const at = words.findIndex((w) => /^(generator-)?arpypi(:[a-z]+)?$/.test(w));
  return at < 0 ? undefined : words.slice(at + 1).filter((w) => !YO_FLAGS.has(w));
}

export abstract class ArpypiGenerator extends Generator {
  protected abstract readonly command: CommandName;
  private invocation!: Invocation;
  /** Started by the yo command line (rather than by a program such as yeoman-test). */
  private typed = false;
  private outcome?: Outcome;

  constructor(args?: string[], options?: Record<string, unknown>) {
    // The environment's package-manager step has nothing to install here: no chatter about it;
    // the lifecycle methods below are this class's, inherited by each generator.
    super(args ?? [], (options ?? {}) as never, { customInstallTask: true, inheritTasks: true } as never);
  }

  override help(): string {
    return helpText(this.command, 'yo');
  }

  initializing() {
    const words = typedWords();
    // yo hands --force to the environment (for its conflicter) rather than to the generator.
    const given = this.options as Record<string, unknown>;
    const options = { ...given, force: given.force === true || (this.env as { options?: { force?: boolean } }).options?.force === true };
    this.typed = words !== undefined;
    this.invocation = words ? parseCommandLine(this.command, words) : fromOptions(this.command, options, this.args);
    if (this.invocation.version) this.say(generatorVersion);
  }

  /** A line of output: stdout, where the bin prints it; a program's run gets it through Yeoman's adapter. */
  private say(line: string): void {
    if (this.typed) process.stdout.write(`${line}\n`);
    else this.log(line);
  }

  async prompting() {
    if (this.invocation.version) return;
    // Without a terminal yo's prompt can only die; the core then names what is missing, as in the bin.
    const terminal = !this.typed || process.stdin.isTTY === true;
    const ask: Ask = async (question) => {
      const answers = await this.prompt<Record<string, string | boolean>>([
        {
          type: question.kind,
          name: question.key,
          message: question.message,
          ...(question.choices ? { choices: question.choices.map((c) => ({ name: c.label, value: c.value })) } : {}),
          default: question.default,
          ...(question.kind === 'input'
            ? { filter: (v: string) => v.trim(), validate: (v: string) => question.problem(v.trim()) ?? true }
            : {}),
        } as never,
      ]);
      return answers[question.key];
    };
    this.outcome = await run(this.destinationRoot(), this.invocation, COMMANDS[this.command], 'yo', terminal ? ask : undefined);
  }

  async writing() {
    await this.outcome?.finish();
  }

  end() {
    if (!this.outcome) return;
    for (const line of this.outcome.lines) this.say(line);
    if (this.outcome.failure) throw this.outcome.failure;
  }
}

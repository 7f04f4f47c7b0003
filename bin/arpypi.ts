#!/usr/bin/env node
// `arpypi`: the bin door. Its words go to the core's parser, its questions to the
// terminal, its plan to the core's atomic writer; no Yeoman is loaded.
import { UsageError } from '../generators/core/answers.js';
import { helpText, parseCommandLine } from '../generators/core/command-line.js';
import { COMMANDS } from '../generators/core/commands/index.js';
import { generatorVersion } from '../generators/core/package-root.js';
import { run } from '../generators/core/run.js';

async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0] === 'function' ? 'function' : 'app';
  const invocation = parseCommandLine(command, command === 'function' ? argv.slice(1) : argv);
  if (invocation.version) {
    process.stdout.write(`${generatorVersion}\n`);
    return 0;
  }
  if (invocation.help) {
    process.stdout.write(helpText(command, 'bin'));
    return 0;
  }
  const root = process.cwd();
  // The prompts' module is loaded only when there is someone to ask.
  const terminal = process.stdin.isTTY && !invocation.yes ? await import('./prompt.js') : undefined;
  let outcome;
  try {
    outcome = await run(root, invocation, COMMANDS[command], 'bin', terminal?.askOnTerminal);
  } finally {
    terminal?.closeTerminal();
  }
  await outcome.finish();
  process.stdout.write(`${outcome.lines.join('\n')}\n`);
  if (outcome.failure) throw outcome.failure;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Bad input is the user's to fix: its message alone, no stack.
    const message = error instanceof UsageError ? error.message : `arpypi: ${(error as Error)?.message ?? String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = 1;
  },
);

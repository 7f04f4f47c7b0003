#!/usr/bin/env node
// `arpypi`: the repository and its functions from flags, as `yo arpypi` and
// `yo arpypi:function NAME` make them, without loading the Yeoman environment.
import { UsageError } from '../generators/core/answers.js';
import { generatorVersion } from '../generators/core/package-root.js';
import { apply, describe } from './apply.js';
import { helpText, parseCommandLine } from './command-line.js';
import { planApp, planFunction } from './runs.js';
import type { Plan } from './runs.js';

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommandLine(argv);
  if (command.help) {
    process.stdout.write(helpText(command.name));
    return 0;
  }
  if (command.version) {
    process.stdout.write(`${generatorVersion}\n`);
    return 0;
  }
  const root = process.cwd();
  const request = { root, values: command.values, yes: command.yes, force: command.force };
  let plan: Plan;
  if (command.name === 'function') {
    plan = planFunction({ ...request, name: command.functionName });
  } else {
    // The prompts' module is loaded only when there is someone to ask.
    const ask = process.stdin.isTTY && !command.yes ? (await import('./prompt.js')).askOnTerminal : undefined;
    plan = await planApp({ ...request, ask });
  }
  for (const note of plan.notes) process.stderr.write(`${note}\n`);
  process.stdout.write(`${describe(plan).join('\n')}\n`);
  if (command.dryRun) {
    process.stdout.write('Dry run: nothing was written.\n');
  } else {
    apply(plan, root);
  }
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

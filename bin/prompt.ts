// Asks, on a terminal, for the options that have a prompt and no value yet: the
// same questions, suggested defaults and rules as the Yeoman generator's prompts,
// through node:readline, so that the bin needs no Yeoman environment to ask.
import { UsageError } from '../generators/core/answers.js';
import type { DefaultContext, OptionSpec } from '../generators/core/options.js';

export type Asker = (
  specs: readonly OptionSpec[],
  values: Record<string, unknown>,
  ctx: Omit<DefaultContext, 'values'>,
) => Promise<Record<string, unknown>>;

export const askOnTerminal: Asker = async (specs, values, ctx) => {
  // Imported here so that a bundle of the bin loads readline only when it asks.
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // Ctrl-C would only pause the input otherwise.
  rl.on('SIGINT', () => rl.close());
  // Read as a stream of lines, so that answers typed ahead are kept, not dropped.
  const lines = rl[Symbol.asyncIterator]();
  let answered = { ...values };
  try {
    for (const spec of specs) {
      const suggested = spec.default?.({ ...ctx, values: answered });
      const choices = spec.choices ? ` (${spec.choices.join(', ')})` : '';
      const hint = typeof suggested === 'string' ? ` [${suggested}]` : '';
      for (;;) {
        rl.setPrompt(`? ${spec.message}${choices}${hint}: `);
        rl.prompt();
        const line = await lines.next();
        if (line.done) throw new UsageError('Stopped before every answer was given; nothing was written.');
        const typed = line.value.trim();
        const value = typed === '' ? suggested : typed;
        if (typeof value !== 'string' || value === '') {
          process.stdout.write(`  ${spec.message} needs a value (--${spec.flag}).\n`);
          continue;
        }
        const broken = spec.check?.(value);
        if (broken) {
          process.stdout.write(`  "${value}" ${broken}.\n`);
          continue;
        }
        answered = { ...answered, [spec.key]: value };
        break;
      }
    }
  } finally {
    rl.close();
  }
  return answered;
};

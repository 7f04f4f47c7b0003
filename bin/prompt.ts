// The bin's way to put a question to a person: node:readline on the terminal. What is
// asked, its default and its rule come from the core (ask.ts).
import { stoppedAnswering } from '../generators/core/ask.js';
import type { Ask } from '../generators/core/ask.js';

let lines: AsyncIterator<string> | undefined;
let rl: import('node:readline').Interface | undefined;

async function reader() {
  if (!rl) {
    // Imported here so that a bundle of the bin loads readline only when it asks.
    const { createInterface } = await import('node:readline');
    rl = createInterface({ input: process.stdin, output: process.stdout });
    // Ctrl-C would only pause the input otherwise.
    rl.on('SIGINT', () => rl?.close());
    // Read as a stream of lines, so that answers typed ahead are kept, not dropped.
    lines = rl[Symbol.asyncIterator]();
  }
  return { rl: rl!, lines: lines! };
}

/** Lets the process end: an open terminal reader keeps it alive. */
export const closeTerminal = (): void => rl?.close();

export const askOnTerminal: Ask = async (question) => {
  const { rl, lines } = await reader();
  const choices = question.choices ? `\n${question.choices.map((c) => `    ${c.label}`).join('\n')}\n ` : '';
  const yesNo = question.kind === 'confirm' ? ` (y/N)` : '';
  const hint = typeof question.default === 'string' ? ` [${question.default}]` : '';
  for (;;) {
    rl.setPrompt(`? ${question.message}${choices}${yesNo}${hint}: `);
    rl.prompt();
    const line = await lines.next();
    if (line.done) throw stoppedAnswering();
    const typed = line.value.trim();
    if (question.kind === 'confirm') {
      if (typed === '') return question.default === true;
      if (/^(y|yes)$/i.test(typed)) return true;
      if (/^(n|no)$/i.test(typed)) return false;
      process.stdout.write('  Answer y or n.\n');
      continue;
    }
    const value = typed === '' && typeof question.default === 'string' ? question.default : typed;
    const problem = question.problem(value);
    if (problem) {
      process.stdout.write(`  ${problem}\n`);
      continue;
    }
    return value;
  }
};

// The repository command (`arpypi`, `yo arpypi`): the answers, from the flags given, the
// answers stored, questions and defaults; and a first function when --function names one.
import { assertValid, carriedOver, finishApp, missingError, pickValues, runtimeViolation, UsageError, withDefaults } from '../answers.js';
import { askMissing } from '../ask.js';
import { APP_OPTIONS } from '../options.js';
import type { CommandContext, Decision } from '../run.js';
import { storedFunctions } from '../stored.js';
import { missingUnderYes } from '../unattended.js';
import { newFunction } from './function.js';

export async function decideApp(ctx: CommandContext): Promise<Decision> {
  const { stored, invocation } = ctx;
  const given = pickValues(APP_OPTIONS, invocation.flags);
  assertValid(APP_OPTIONS, given, 'flag');
  const { function: first, ...values } = { ...pickValues(APP_OPTIONS, carriedOver(stored, given)), ...given };
  const specs = APP_OPTIONS.filter((s) => s.key !== 'function');

  let answered: Record<string, unknown> = values;
  if (ctx.ask) answered = await askMissing(specs, values, ctx.defaults, ctx.ask);
  else if (!invocation.yes) {
    const unasked = specs.filter((s) => s.message && values[s.key] === undefined);
    if (unasked.length > 0) {
      throw missingError(unasked, 'there is no terminal to ask on; give them as flags, or add --yes to take the defaults of those that have one');
    }
  }
  const { values: filled, missing } = withDefaults(specs, answered, ctx.defaults);
  if (missing.length > 0) throw missingUnderYes(missing, filled);
  const { answers, warnings } = finishApp(filled);

  const functions = storedFunctions(stored);
  // A runtime set apart from the Python version must not fall behind a new one.
  for (const fn of functions.values()) {
    const behind = runtimeViolation(fn.runtime, answers.pythonVersion, { stored: `functions.${fn.name}.` });
    if (behind) throw new UsageError(behind);
  }
  if (typeof first === 'string' && !functions.has(first)) functions.set(first, newFunction(ctx, answers, functions, first, {}));
  return { app: answers, functions: [...functions.values()], warnings, notes: [] };
}

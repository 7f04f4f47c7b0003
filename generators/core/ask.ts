// The questions of a run, decided here once; a door only knows how to put one question
// to a person (Yeoman's this.prompt, or the bin's terminal) and to show the rule again.
import { ruleViolation, timeoutForTrigger, UsageError } from './answers.js';
import { runtimeForPython } from './rules.js';
import type { DefaultContext, OptionSpec } from './options.js';

export interface Question {
  key: string;
  message: string;
  kind: 'input' | 'select' | 'confirm';
  choices?: { value: string; label: string }[];
  /** What an empty answer takes; none: the answer is required. */
  default?: string | boolean;
  /** Null when the (trimmed) answer is fine, else one sentence to show before asking again. */
  problem: (answer: string | boolean) => string | null;
}

/** What a door throws when the person stops answering (end of input). */
export const stoppedAnswering = (): UsageError => new UsageError('Stopped before every answer was given; nothing was written.');

/** Puts one question to a person and resolves with the accepted answer. */
export type Ask = (question: Question) => Promise<string | boolean>;

export function questionFor(spec: OptionSpec, values: Record<string, unknown>, ctx: Omit<DefaultContext, 'values'>): Question {
  const full = { ...ctx, values };
  const suggested = spec.default?.(full) ?? spec.suggest?.(full);
  return {
    key: spec.key,
    message: spec.message ?? spec.description,
    kind: spec.type === 'boolean' ? 'confirm' : spec.choices ? 'select' : 'input',
    ...(spec.choices
      ? { choices: spec.choices.map((value) => ({ value, label: spec.explain?.[value] ? `${value}: ${spec.explain[value]}` : value })) }
      : {}),
    ...(suggested !== undefined ? { default: suggested } : {}),
    problem: (answer) => {
      if (spec.type === 'boolean') return null;
      const broken = ruleViolation(spec, typeof answer === 'string' ? answer.trim() : answer, 'answer');
      if (broken) return broken;
      // The rules between two answers that a person can still fix at this question.
      const late =
        spec.key === 'timeout' ? timeoutForTrigger(answer, values.trigger)
        : spec.key === 'runtime' && typeof values.pythonVersion === 'string' ? runtimeForPython(String(answer).trim(), values.pythonVersion)
        : null;
      return late ? `The answer ${JSON.stringify(answer)} ${late}.` : null;
    },
  };
}

/** Asks, in table order, for every spec with a prompt and no value yet. */
export async function askMissing(
  specs: readonly OptionSpec[],
  values: Record<string, unknown>,
  ctx: Omit<DefaultContext, 'values'>,
  ask: Ask,
): Promise<Record<string, unknown>> {
  let answered = { ...values };
  for (const spec of specs) {
    if (!spec.message || answered[spec.key] !== undefined || spec.applies?.(answered) === false) continue;
    const answer = await ask(questionFor(spec, answered, ctx));
    answered = { ...answered, [spec.key]: typeof answer === 'string' ? answer.trim() : answer };
  }
  return answered;
}

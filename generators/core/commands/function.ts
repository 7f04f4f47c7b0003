// The function command (`arpypi function NAME`, `yo arpypi:function NAME`): adds a
// function to a repository this generator made, with the repository's stored answers,
// or removes one (--remove).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { assertValid, carriedOver, finishApp, finishFunction, pickValues, ruleViolation, UsageError, withDefaults } from '../answers.js';
import type { AppAnswers, FunctionAnswers } from '../answers.js';
import { askMissing, questionFor } from '../ask.js';
import { APP_OPTIONS, FUNCTION_NAME, FUNCTION_OPTIONS } from '../options.js';
import type { CommandContext, Decision } from '../run.js';
import { runtimeAccountId, triggerAccountId } from '../model.js';
import { storedFunctions } from '../stored.js';
import { missingUnderYes } from '../unattended.js';

function repositoryAnswers(ctx: CommandContext, stored: Record<string, unknown>): AppAnswers {
  if (typeof stored.projectId !== 'string') {
    throw new UsageError(
      `No repository made by this generator here (${ctx.root} has no .yo-rc.json with its answers); run arpypi (or yo arpypi) first, or run this in that repository's root.`,
    );
  }
  // Answers a repository made by an older version lacks take today's defaults (--index: virtual).
  const { values } = withDefaults(APP_OPTIONS.filter((o) => o.key !== 'function'), pickValues(APP_OPTIONS, carriedOver(stored, {})), ctx.defaults);
  return finishApp(values).answers;
}

const exists = (name: string): string => `The function "${name}" exists already (functions/${name}); choose another name.`;

/** A new function's name: its rule, and no function of that name in the answers or on disk. */
function checkNewName(root: string, functions: ReadonlyMap<string, FunctionAnswers>, name: string): void {
  const broken = ruleViolation(FUNCTION_NAME, name, 'flag');
  if (broken) throw new UsageError(broken);
  if (functions.has(name) || existsSync(path.join(root, 'functions', name, 'main.py'))) throw new UsageError(exists(name));
}

/** A new function's answers, from its flags (or answers) and then its defaults. */
export function newFunction(
  ctx: CommandContext,
  app: AppAnswers,
  functions: ReadonlyMap<string, FunctionAnswers>,
  name: string,
  flags: Record<string, unknown>,
): FunctionAnswers {
  checkNewName(ctx.root, functions, name);
  const given = pickValues(FUNCTION_OPTIONS, flags);
  assertValid(FUNCTION_OPTIONS, given, 'flag');
  const { values, missing } = withDefaults(FUNCTION_OPTIONS, { pythonVersion: app.pythonVersion, ...given }, ctx.defaults);
  if (missing.length > 0) throw missingUnderYes(missing, values);
  return finishFunction(name, values, app.pythonVersion);
}

export async function decideFunction(ctx: CommandContext): Promise<Decision> {
  const { stored, invocation } = ctx;
  const app = repositoryAnswers(ctx, stored);
  const functions = storedFunctions(stored);
  let name = invocation.name;
  if (name === undefined) {
    if (!ctx.ask) throw new UsageError('Give the function a name: arpypi function NAME (or yo arpypi:function NAME).');
    const question = questionFor(FUNCTION_NAME, {}, ctx.defaults);
    const named = await ctx.ask({
      ...question,
      problem: (answer) => question.problem(answer) ?? (functions.has(String(answer).trim()) ? exists(String(answer).trim()) : null),
    });
    name = String(named).trim();
  }

  if (invocation.remove) {
    const gone = functions.get(name);
    if (!gone) {
      throw new UsageError(`There is no function "${name}" to remove; this repository has ${[...functions.keys()].join(', ') || 'none'}.`);
    }
    functions.delete(name);
    const accounts = [gone.serviceAccount ? undefined : runtimeAccountId(name), gone.trigger === 'http' ? undefined : triggerAccountId(name)]
      .filter((id): id is string => id !== undefined)
      .map((id) => `${id}@${app.projectId}.iam.gserviceaccount.com`);
    return {
      app,
      functions: [...functions.values()],
      warnings: [],
      notes: [
        `${invocation.dryRun ? 'Would remove' : 'Removed'} the function ${name} from this repository. Its Cloud resources stay until you run bash scripts/setup-gcp.sh --prune, which deletes the Cloud Build trigger fn-${name}${accounts.length > 0 ? `, the service account${accounts.length > 1 ? 's' : ''} ${accounts.join(' and ')}` : ''} and their role bindings (delete the deployed function itself with gcloud functions delete ${name} --region=${app.functionRegion}).`,
      ],
    };
  }

  let values: Record<string, unknown> = invocation.flags;
  if (ctx.ask) {
    // The name is checked before the questions, so that nobody answers them in vain.
    checkNewName(ctx.root, functions, name);
    values = await askMissing(FUNCTION_OPTIONS, { pythonVersion: app.pythonVersion, ...invocation.flags }, ctx.defaults, ctx.ask);
  }
  const fn = newFunction(ctx, app, functions, name, values);
  return { app, functions: [...functions.values(), fn], warnings: [], notes: [] };
}

// What `arpypi` and `arpypi function NAME` would do, decided in full before
// anything is written: the same core calls, in the same order, as the Yeoman
// generators' lifecycles, so that the files and .yo-rc.json come out the same.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { assertValid, carriedOver, finishApp, finishFunction, pickValues, STORED_APP_KEYS, UsageError, withDefaults } from '../generators/core/answers.js';
import type { AppAnswers, FunctionAnswers } from '../generators/core/answers.js';
import { gcloudProject } from '../generators/core/gcloud.js';
import { buildModel } from '../generators/core/model.js';
import { APP_OPTIONS, FUNCTION_OPTIONS } from '../generators/core/options.js';
import { generatorVersion } from '../generators/core/package-root.js';
import { planRemovals, planWrites, recordedAfter, runNotes } from '../generators/core/plan.js';
import type { PlannedFile } from '../generators/core/plan.js';
import { renderAll } from '../generators/core/render.js';
import { checkRecordedVersion, storedFunctions } from '../generators/core/stored.js';
import { missingUnderYes } from '../generators/core/unattended.js';
import { formatYoRc, readYoRc, storeOf } from '../generators/core/yo-rc.js';
import type { YoRc } from '../generators/core/yo-rc.js';
import type { Asker } from './prompt.js';

export interface Plan {
  files: PlannedFile[];
  /** Files an earlier run wrote that this one no longer makes: removed when unedited, else kept. */
  removals: { remove: string[]; keep: string[] };
  /** .yo-rc.json as it is (undefined: none yet) and as the run leaves it. */
  yoRc: { before: string | undefined; after: string };
  /** Warnings and the list of kept edits, for the user. */
  notes: string[];
}

export interface RunRequest {
  root: string;
  /** Values of the table's flags, camelCase. */
  values: Record<string, unknown>;
  yes: boolean;
  force: boolean;
  /** Asks for what is missing; absent when nothing can be asked (no terminal). */
  ask?: Asker;
}

const defaultContext = (root: string) => ({ folderName: path.basename(root), gcloudProject });

/** `arpypi`: what `yo arpypi` does, from initializing to writing. */
export async function planApp(req: RunRequest): Promise<Plan> {
  const yoRc = readYoRc(req.root);
  const stored = storeOf(yoRc);
  checkRecordedVersion(stored, generatorVersion);
  const given = pickValues(APP_OPTIONS, req.values);
  assertValid(APP_OPTIONS, given, 'flag');
  const { function: first, ...values } = { ...pickValues(APP_OPTIONS, carriedOver(stored, given)), ...given };

  const ctx = defaultContext(req.root);
  const unasked = APP_OPTIONS.filter((s) => s.message && values[s.key] === undefined);
  let answered = values;
  if (!req.yes && unasked.length > 0) {
    if (!req.ask) {
      throw new UsageError(
        `Missing ${unasked.map((s) => `--${s.flag}`).join(', ')}: there is no terminal to ask on; give them as flags, or add --yes to take the defaults of those that have one.`,
      );
    }
    answered = await req.ask(unasked, values, ctx);
  }
  const { values: filled, missing } = withDefaults(APP_OPTIONS, answered, ctx);
  if (missing.length > 0) throw missingUnderYes(missing, filled);

  const { answers, warnings } = finishApp(filled);
  const store = { ...stored };
  for (const key of STORED_APP_KEYS) store[key] = answers[key as keyof AppAnswers];
  store.version = generatorVersion;
  // `--function NAME` composes the function generator, which takes none of the function flags.
  if (typeof first === 'string' && !(first in storedFunctions(store))) {
    const { fn } = newFunction(req.root, store, first, {});
    store.functions = { ...storedFunctions(store), [fn.name]: fn };
  }
  return finish(req.root, yoRc, stored, store, answers, req.force, warnings);
}

/** `arpypi function NAME`: what `yo arpypi:function NAME` does. */
export function planFunction(req: RunRequest & { name: string | undefined }): Plan {
  if (!req.name) throw new UsageError('Give the function a name: arpypi function NAME.');
  const yoRc = readYoRc(req.root);
  const stored = storeOf(yoRc);
  const { app, fn } = newFunction(req.root, stored, req.name, req.values);
  const store = { ...stored, functions: { ...storedFunctions(stored), [fn.name]: fn } };
  return finish(req.root, yoRc, stored, store, app, req.force, []);
}

/** The function generator's checks and answers, against the repository's stored answers. */
function newFunction(
  root: string,
  stored: Record<string, unknown>,
  name: string,
  flags: Record<string, unknown>,
): { app: AppAnswers; fn: FunctionAnswers } {
  checkRecordedVersion(stored, generatorVersion);
  if (typeof stored.projectId !== 'string') {
    throw new UsageError(
      `No repository made by arpypi here (${root} has no .yo-rc.json with its answers); run arpypi first, or run this in that repository's root.`,
    );
  }
  const app = finishApp(pickValues(APP_OPTIONS, stored)).answers;
  if (name in storedFunctions(stored) || existsSync(path.join(root, 'functions', name, 'main.py'))) {
    throw new UsageError(`The function "${name}" exists already (functions/${name}); choose another name.`);
  }
  const given = pickValues(FUNCTION_OPTIONS, flags);
  assertValid(FUNCTION_OPTIONS, given, 'flag');
  finishFunction(name, {}); // the name's rule, before the defaults
  const { values, missing } = withDefaults(FUNCTION_OPTIONS, { pythonVersion: app.pythonVersion, ...given }, defaultContext(root));
  if (missing.length > 0) throw missingUnderYes(missing, values);
  return { app, fn: finishFunction(name, values) };
}

function finish(
  root: string,
  yoRc: YoRc,
  stored: Record<string, unknown>,
  store: Record<string, unknown>,
  app: AppAnswers,
  force: boolean,
  warnings: string[],
): Plan {
  const rendered = renderAll(buildModel(app, Object.values(storedFunctions(store)), generatorVersion));
  const recorded = (stored.files ?? {}) as Record<string, string>;
  const readDisk = (p: string) => readText(path.join(root, p));
  const files = planWrites(rendered, readDisk, recorded, force);
  const removals = planRemovals(rendered, readDisk, recorded);
  store.files = recordedAfter(files, recorded);
  return {
    files,
    removals,
    yoRc: { before: yoRc.text, after: formatYoRc(yoRc, store) },
    notes: [...warnings, ...runNotes(files, removals)],
  };
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

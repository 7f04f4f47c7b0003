// The one lifecycle of a run, for every command and both doors (yo and the bin):
//   where: one repository at a time, its .yo-rc.json read and checked as input;
//   decide: the command turns flags, stored answers and questions into the answers to keep;
//   plan: render, then decide file by file (create, update, merge, keep, remove, move);
//   report: what happened and what to do next.
// A door parses nothing and decides nothing: it supplies how to ask and calls commit().
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './answers.js';
import type { AppAnswers, FunctionAnswers } from './answers.js';
import type { Ask } from './ask.js';
import { BASES_FILE, encodeBases, readBases } from './bases.js';
import type { Bases } from './bases.js';
import type { Invocation } from './command-line.js';
import type { Change } from './commit.js';
import { gcloudProject } from './gcloud.js';
import { buildModel } from './model.js';
import type { DefaultContext } from './options.js';
import { generatorVersion } from './package-root.js';
import { assertWritable } from './paths.js';
import { basesAfter, planRemovals, planWrites, recordedAfter } from './plan.js';
import type { PlannedFile } from './plan.js';
import { renderAll } from './render.js';
import { report } from './report.js';
import { assertStoredValid, checkRecordedVersion, storedFiles } from './stored.js';
import { formatYoRc, readYoRc, STORE_KEY, storeOf, YO_RC } from './yo-rc.js';
import { byText, importName } from './rules.js';

export interface CommandContext {
  root: string;
  stored: Record<string, unknown>;
  invocation: Invocation;
  /** Absent when nobody can be asked (no terminal, or --yes). */
  ask?: Ask;
  defaults: Omit<DefaultContext, 'values'>;
}

/** What a command decided: the answers the repository is rendered from, and what to tell. */
export interface Decision {
  app: AppAnswers;
  functions: FunctionAnswers[];
  warnings: string[];
  /** Sentences for the report's end (cloud resources to prune, moved code). */
  notes: string[];
}

export interface Plan {
  files: PlannedFile[];
  removals: { remove: string[]; keep: string[] };
  /** A folder of the user's code moved with a renamed package. */
  moves: { from: string; to: string }[];
  /** The generator's own records (.yo-rc.json, the merge bases) that this run creates or updates. */
  records: { path: string; action: 'create' | 'update'; contents: string | Buffer }[];
}

export interface Outcome {
  plan: Plan;
  /** The changes to commit, in order; empty under --dry-run. */
  changes: Change[];
  /** Lines to print: warnings, file actions, summary, next step. */
  lines: string[];
  /** Set when the run must end non-zero after its changes (files left with conflict markers). */
  failure?: UsageError;
}

/** Refuses to run inside a folder of a repository this generator made. */
function refuseNested(root: string): void {
  for (let dir = path.dirname(root); ; dir = path.dirname(dir)) {
    const file = path.join(dir, YO_RC);
    if (existsSync(file)) {
      let holdsOurs = false;
      try {
        holdsOurs = STORE_KEY in JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        // not ours to judge
      }
      if (holdsOurs) {
        throw new UsageError(
          `This folder is inside the repository at ${dir} (its ${YO_RC} is there); run this in ${dir}, one repository at a time.`,
        );
      }
    }
    if (path.dirname(dir) === dir) return;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UsageError(`Could not read ${file}: ${code ?? (error as Error).message}.`);
  }
}

export type CommandRunner = (ctx: CommandContext) => Promise<Decision>;

export async function run(root: string, invocation: Invocation, decide: CommandRunner, ask?: Ask): Promise<Outcome> {
  refuseNested(root);
  const yoRc = readYoRc(root);
  const stored = storeOf(yoRc);
  checkRecordedVersion(stored, generatorVersion);
  assertStoredValid(stored);

  const decision = await decide({
    root,
    stored,
    invocation,
    ask: invocation.yes ? undefined : ask,
    defaults: { folderName: path.basename(root), gcloudProject },
  });

  const recordedBefore = storedFiles(stored);
  const model = buildModel(decision.app, decision.functions, generatorVersion);
  const rendered = renderAll(model);

  // A renamed package takes the user's code with it: package/src/OLD moves to package/src/NEW.
  const moves: { from: string; to: string }[] = [];
  const oldImport = typeof stored.packageName === 'string' ? importName(stored.packageName) : undefined;
  if (oldImport && oldImport !== model.importName) {
    const from = `package/src/${oldImport}`;
    const to = `package/src/${model.importName}`;
    if (isFolder(path.join(root, from)) && !existsSync(path.join(root, to))) moves.push({ from, to });
  }
  const moved = (file: string): string => {
    for (const m of moves) if (file.startsWith(`${m.to}/`)) return `${m.from}${file.slice(m.to.length)}`;
    return file;
  };
  const recorded = { ...recordedBefore };
  for (const m of moves) {
    for (const [file, hash] of Object.entries(recordedBefore)) {
      if (file.startsWith(`${m.from}/`)) {
        delete recorded[file];
        recorded[`${m.to}${file.slice(m.from.length)}`] = hash;
      }
    }
  }

  assertWritable(root, [...rendered.map((f) => f.path), ...Object.keys(recorded), YO_RC, BASES_FILE, ...moves.map((m) => m.from)]);

  const readDisk = (file: string) => readText(path.join(root, moved(file)));
  let lastRenders: Bases | undefined;
  const bases = () => (lastRenders ??= readBases(root));
  const { force, dryRun } = invocation;
  const files = planWrites(rendered, readDisk, recorded, bases, force, generatorVersion);
  const removals = planRemovals(rendered, readDisk, recorded);

  const store: Record<string, unknown> = { ...stored, ...decision.app, version: generatorVersion };
  store.functions = Object.fromEntries([...decision.functions].sort((a, b) => byText(a.name, b.name)).map((fn) => [fn.name, fn]));
  if (decision.functions.length === 0) delete store.functions;
  store.files = recordedAfter(files);
  const basesBefore = existsSync(path.join(root, BASES_FILE)) ? readFileSync(path.join(root, BASES_FILE)) : undefined;
  const basesNow = encodeBases(basesAfter(files));
  const yoRcNow = formatYoRc(yoRc, store);
  const records: Plan['records'] = [
    ...(basesBefore?.equals(basesNow) ? [] : [{ path: BASES_FILE, action: basesBefore ? 'update' : 'create', contents: basesNow } as const]),
    ...(yoRcNow === yoRc.text ? [] : [{ path: YO_RC, action: yoRc.text === undefined ? 'create' : 'update', contents: yoRcNow } as const]),
  ];
  const plan: Plan = { files, removals, moves, records };

  const changes: Change[] = dryRun
    ? []
    : [
        ...moves.map((m): Change => ({ kind: 'move', ...m })),
        ...files.filter((f) => f.write !== undefined).map((f): Change => ({ kind: 'write', path: f.path, contents: f.write!, executable: f.executable })),
        ...removals.remove.map((file): Change => ({ kind: 'remove', path: file })),
        ...records.map((r): Change => ({ kind: 'write', path: r.path, contents: r.contents })),
      ];
  const conflicted = files.some((f) => f.action === 'conflict' || f.action === 'unresolved');
  return {
    plan,
    changes,
    lines: report(plan, decision, dryRun),
    ...(conflicted ? { failure: new UsageError('Some files hold conflict markers (listed above); resolve them and run again.') } : {}),
  };
}

function isFolder(dir: string): boolean {
  try {
    return lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

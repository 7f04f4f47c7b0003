// The one lifecycle of a run, for every command and both doors (yo and the bin):
//   hold: one run at a time in a repository (lock.ts); a run cut off in the middle of its
//     commit is put back first (commit.ts);
//   where: its .yo-rc.json read and checked as input;
//   decide: the command turns flags, stored answers and questions into the answers to keep;
//   plan: render, then decide file by file (create, update, merge, keep, remove, move), and
//     the records that follow from what is written;
//   report: what happened and what to do next.
// A door parses nothing and decides nothing: it supplies how to ask and calls finish().
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './answers.js';
import type { AppAnswers, FunctionAnswers } from './answers.js';
import type { Ask } from './ask.js';
import { BASES_FILE, decodeBases, encodeBases, OFFERS_DIR, readBasesFile } from './bases.js';
import type { Bases } from './bases.js';
import { SPELLING } from './command-line.js';
import type { Invocation } from './command-line.js';
import { commit, recover } from './commit.js';
import type { Change } from './commit.js';
import { kindOf, readBytes, readText } from './disk.js';
import { gcloudProject } from './gcloud.js';
import { LOCK_FILE, takeLock } from './lock.js';
import { buildModel } from './model.js';
import type { DefaultContext } from './options.js';
import { generatorVersion } from './package-root.js';
import { assertWritable } from './paths.js';
import { basesAfter, lineEndings, planRemovals, planWrites, recordedAfter } from './plan.js';
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
  /** Sentences for the report's end (cloud resources to prune). */
  notes: string[];
}

export interface Plan {
  files: PlannedFile[];
  removals: { remove: string[]; keep: string[] };
  /** The package's import folder, moved file by file with a renamed package. */
  rename?: { from: string; to: string; moves: { from: string; to: string }[]; dropped: string[] };
  /** Files (Python) that still import the package's old import name after a rename. */
  oldImports: string[];
  /** Wiring files whose generated version waits in OFFERS_DIR for the user's merge by hand. */
  offered: string[];
  /** The generator's own records (.yo-rc.json, the merge bases) that this run creates or updates. */
  records: { path: string; action: 'create' | 'update'; contents: string | Buffer }[];
  /** What putting back a run cut off in the middle of its commit did, when there was one. */
  recovered?: string;
}

export interface Outcome {
  plan: Plan;
  /** The changes to commit, in order; empty under --dry-run. */
  changes: Change[];
  /** Lines to print: warnings, file actions, summary, next step. */
  lines: string[];
  /** Set when the run must end non-zero after its changes (files left with conflict markers). */
  failure?: UsageError;
  /** Writes the changes, all or nothing (none under --dry-run), and ends the run's hold on the repository. */
  finish(): Promise<void>;
}

export type Door = 'bin' | 'yo';

/** A whole turn of the event loop (its poll phase, where signal handlers run), from any phase. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
export type CommandRunner = (ctx: CommandContext) => Promise<Decision>;

/** Refuses to run inside a folder of a repository this generator made. */
function refuseNested(root: string): void {
  for (let dir = path.dirname(root); ; dir = path.dirname(dir)) {
    const file = path.join(dir, YO_RC);
    if (existsSync(file)) {
      let holdsOurs = false;
      try {
        holdsOurs = Object.hasOwn(JSON.parse(readFileSync(file, 'utf8')), STORE_KEY);
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

/** Every entry below `dir` (relative to it) that is not a folder, and every empty folder; none when it is missing. */
function entriesBelow(dir: string, skip: (name: string, full: string) => boolean = () => false): string[] {
  const out: string[] = [];
  if (kindOf(dir) !== 'folder') return out;
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(path.join(dir, rel)).sort();
    } catch {
      return;
    }
    if (names.length === 0 && rel !== '') out.push(rel);
    for (const name of names) {
      const sub = rel ? `${rel}/${name}` : name;
      if (skip(name, path.join(dir, sub))) continue;
      if (kindOf(path.join(dir, sub)) === 'folder') walk(sub);
      else out.push(sub);
    }
  };
  walk('');
  return out;
}

/**
 * A renamed package takes the user's code with it, file by file: package/src/OLD/x to
 * package/src/NEW/x, into a folder that exists too. A file already there with the same
 * bytes (or a cache under __pycache__) makes the old copy go; a different one refuses the run.
 */
function planRename(root: string, oldImport: string, newImport: string): Plan['rename'] {
  const from = `package/src/${oldImport}`;
  const to = `package/src/${newImport}`;
  if (kindOf(path.join(root, from)) !== 'folder') return undefined;
  const target = kindOf(path.join(root, to));
  if (target !== undefined && target !== 'folder') {
    throw new UsageError(`Renaming the package moves ${from} to ${to}, which is a file; move that file away, then run again. Nothing was written.`);
  }
  const moves: { from: string; to: string }[] = [];
  const dropped: string[] = [];
  for (const rel of entriesBelow(path.join(root, from))) {
    const source = `${from}/${rel}`;
    const destination = `${to}/${rel}`;
    const there = kindOf(path.join(root, destination));
    if (there === undefined) moves.push({ from: source, to: destination });
    else if (there === 'folder' && kindOf(path.join(root, source)) === 'folder') continue;
    else if (there === 'file' && kindOf(path.join(root, source)) === 'file' && readFileSync(path.join(root, source)).equals(readFileSync(path.join(root, destination)))) {
      dropped.push(source);
    } else if (rel.split('/').includes('__pycache__')) dropped.push(source);
    else {
      throw new UsageError(
        `Renaming the package moves ${from} to ${to}, where ${destination} exists already and differs from ${source}; keep one of the two, then run again. Nothing was written.`,
      );
    }
  }
  return { from, to, moves, dropped };
}

/** Python files of the functions and the package's tests that import `module` (in any form). */
function importersOf(root: string, module: string): string[] {
  const imports = new RegExp(`^\\s*(?:from\\s+${module}(?:\\.\\w+)*\\s+import\\b|import\\s+(?:[\\w.]+(?:\\s+as\\s+\\w+)?\\s*,\\s*)*${module}(?:\\.\\w+)*\\b)`, 'm');
  // Caches, dot-folders and virtual environments hold no code of the user's to change.
  const skip = (name: string, full: string) => name.startsWith('.') || name === '__pycache__' || existsSync(path.join(full, 'pyvenv.cfg'));
  return ['functions', 'package/tests'].flatMap((dir) =>
    entriesBelow(path.join(root, dir), skip)
      .filter((rel) => rel.endsWith('.py'))
      .map((rel) => `${dir}/${rel}`)
      .filter((file) => imports.test(readText(root, file) ?? '')),
  );
}

/** How the run names itself to another run (lock) and after a crash (journal). */
function label(invocation: Invocation, door: Door): string {
  const spelled = SPELLING[invocation.command][door].replace(' NAME', invocation.name !== undefined ? ` ${invocation.name}` : '');
  return `${spelled}${invocation.remove ? ' --remove' : ''}`;
}

export async function run(root: string, invocation: Invocation, decide: CommandRunner, door: Door, ask?: Ask): Promise<Outcome> {
  refuseNested(root);
  assertWritable(root, [LOCK_FILE]);
  const command = label(invocation, door);
  let written = false;
  const lock = await takeLock(root, command, invocation.dryRun, (signal) =>
    written ? `Stopped by ${signal}, after this run had written every change.` : `Stopped by ${signal}; this run changed no file.`,
  );
  try {
    const outcome = await plan(root, invocation, decide, lock.held ? recover(root) : undefined, ask);
    return {
      ...outcome,
      async finish() {
        try {
          // A signal that came meanwhile is handled here, before the commit and after it: never inside.
          await turn();
          if (outcome.changes.length > 0) commit(root, outcome.changes, command);
          written = true;
          await turn();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function plan(
  root: string,
  invocation: Invocation,
  decide: CommandRunner,
  recovered: string | undefined,
  ask?: Ask,
): Promise<Omit<Outcome, 'finish'>> {
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

  const model = buildModel(decision.app, decision.functions, generatorVersion);
  const rendered = renderAll(model);

  const oldImport = typeof stored.packageName === 'string' ? importName(stored.packageName) : undefined;
  const renamed = oldImport !== undefined && oldImport !== model.importName;
  const rename = renamed ? planRename(root, oldImport, model.importName) : undefined;
  // The plan reads a moved file where it is now; its record moves with it.
  const movedFrom = new Map(rename?.moves.map((m) => [m.to, m.from]));
  const recorded = new Map<string, string>();
  for (const [file, hash] of storedFiles(stored)) {
    recorded.set(rename && file.startsWith(`${rename.from}/`) ? `${rename.to}${file.slice(rename.from.length)}` : file, hash);
  }

  const wiring = rendered.filter((f) => f.owner === 'wiring').map((f) => f.path);
  assertWritable(root, [
    ...rendered.map((f) => f.path),
    ...recorded.keys(),
    YO_RC,
    BASES_FILE,
    ...wiring.map((f) => `${OFFERS_DIR}/${f}`),
    ...(rename ? [...rename.moves.flatMap((m) => [m.from, m.to]), ...rename.dropped] : []),
  ]);

  const readDisk = (file: string) => readText(root, movedFrom.get(file) ?? file);
  const basesBytes = readBasesFile(root);
  let lastRenders: Bases | undefined;
  const bases = () => (lastRenders ??= decodeBases(basesBytes));
  const { force, dryRun } = invocation;
  const waiting = new Set(entriesBelow(path.join(root, OFFERS_DIR)));
  const files = planWrites(rendered, readDisk, recorded, bases, waiting, force, generatorVersion);
  const removals = planRemovals(rendered, readDisk, recorded);
  const offers = planOffers(root, files, waiting, new Set(recorded.keys()));

  const store: Record<string, unknown> = { ...stored, ...decision.app, version: generatorVersion };
  store.functions = Object.fromEntries([...decision.functions].sort((a, b) => byText(a.name, b.name)).map((fn) => [fn.name, fn]));
  if (decision.functions.length === 0) delete store.functions;
  store.files = recordedAfter(files);
  const basesNow = encodeBases(basesAfter(files));
  const yoRcNow = formatYoRc(yoRc, store);
  const records: Plan['records'] = [
    ...(basesBytes?.equals(basesNow) ? [] : [{ path: BASES_FILE, action: basesBytes ? 'update' : 'create', contents: basesNow } as const]),
    ...(yoRcNow === yoRc.text ? [] : [{ path: YO_RC, action: yoRc.text === undefined ? 'create' : 'update', contents: yoRcNow } as const]),
  ];
  const removed = new Set(removals.remove);
  const oldImports = renamed ? importersOf(root, oldImport).filter((file) => !removed.has(file)) : [];
  const planned: Plan = { files, removals, rename, oldImports, offered: offers.pending, records, ...(recovered ? { recovered } : {}) };

  const changes: Change[] = dryRun
    ? []
    : [
        ...(rename?.moves ?? []).map((m): Change => ({ kind: 'move', ...m })),
        ...(rename?.dropped ?? []).map((file): Change => ({ kind: 'remove', path: file })),
        ...files.filter((f) => f.write !== undefined).map((f): Change => ({ kind: 'write', path: f.path, contents: f.write!, executable: f.executable })),
        ...offers.changes,
        ...removals.remove.map((file): Change => ({ kind: 'remove', path: file })),
        ...records.map((r): Change => ({ kind: 'write', path: r.path, contents: r.contents })),
      ];
  const conflicted = files.some((f) => f.action === 'conflict' || f.action === 'unresolved');
  return {
    plan: planned,
    changes,
    lines: report(planned, decision, dryRun),
    ...(conflicted ? { failure: new UsageError('Some files hold conflict markers (listed above); resolve them and run again.') } : {}),
  };
}

/**
 * The generated versions offered beside the user's own files (a file that was there before
 * the generator, or one with no base to merge with): written to OFFERS_DIR and kept fresh
 * while offered; removed once the file holds the render or is no longer made.
 */
function planOffers(root: string, files: readonly PlannedFile[], waiting: ReadonlySet<string>, recorded: ReadonlySet<string>): { pending: string[]; changes: Change[] } {
  const rest = new Set(waiting);
  const pending: string[] = [];
  const changes: Change[] = [];
  for (const file of files) {
    if (file.owner !== 'wiring') continue;
    const offer = `${OFFERS_DIR}/${file.path}`;
    const there = rest.delete(file.path);
    if (file.action === 'offered') {
      pending.push(file.path);
      const now = there ? readBytes(root, offer) : undefined;
      if (now === undefined || lineEndings(now.toString('utf8')).lf !== file.contents) changes.push({ kind: 'write', path: offer, contents: file.contents });
    } else if (there) changes.push({ kind: 'remove', path: offer });
  }
  // Offers of files no longer made (a removed function's) go with them.
  for (const file of rest) if (recorded.has(file)) changes.push({ kind: 'remove', path: `${OFFERS_DIR}/${file}` });
  return { pending, changes };
}

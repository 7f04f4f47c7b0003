// Puts a decided run on the disk all or nothing, with a journal, as a database does:
//   1. every new content is staged under .arpypi/commit/; nothing visible has changed yet;
//   2. the journal (.arpypi/commit/journal.json) lists each step: folders to make, files to
//      replace (the old one is renamed into .arpypi/commit/ first, so its bytes and mode are
//      kept), files to remove (renamed there too) and files to move;
//   3. the steps run; deleting the journal is the commit point; the backups then go.
// A step that fails puts back every earlier one at once, and the error names the file and
// the cause in one sentence. A run killed in the middle leaves the journal, and the next run
// puts everything back before it starts (recover()). Both doors (yo and the bin) write here.
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './answers.js';
import { causeOf, kindOf } from './disk.js';
import { STATE_DIR } from './bases.js';
import { hostname } from './lock.js';
import { assertWritable, relativePathProblem } from './paths.js';

export type Change =
  | { kind: 'write'; path: string; contents: string | Buffer; executable?: boolean }
  | { kind: 'remove'; path: string }
  /** One file (or link) to another path; the folders above `to` are made as needed. */
  | { kind: 'move'; from: string; to: string };

export const WORK_DIR = `${STATE_DIR}/commit`;
const JOURNAL = `${WORK_DIR}/journal.json`;
/** The journal once the commit point is passed: what is left is clean-up. */
const DONE = `${WORK_DIR}/done.json`;
const EXECUTABLE = 0o755;

type Step =
  /** `for`: the file the folder is made for, which an error names. */
  | { do: 'mkdir'; path: string; for: string }
  | { do: 'write'; path: string; staged: string; backup?: string }
  | { do: 'remove'; path: string; backup: string }
  | { do: 'move'; from: string; to: string };

interface Journal {
  pid: number;
  host: string;
  command: string;
  steps: Step[];
}

/** A write that failed: its message is for the user as it is. */
export class WriteError extends UsageError {
  constructor(file: string, error: unknown, undone: boolean) {
    super(`Could not write ${file}: ${causeOf(error)}; ${undone ? 'every file is as it was before this run' : 'some files could not be put back, see above'}.`);
  }
}

/** Undoes the steps that ran, last first; each looks at the disk, so a step cut off half-way is undone too. */
function rollBack(root: string, steps: readonly Step[], report: (file: string, error: unknown) => void): void {
  const at = (p: string) => path.join(root, p);
  const work = (name: string) => path.join(root, WORK_DIR, name);
  for (const step of [...steps].reverse()) {
    const file = step.do === 'move' ? step.from : step.path;
    try {
      if (step.do === 'mkdir') {
        // Not empty: something else lives there now, and stays.
        if (kindOf(at(step.path)) === 'folder') rmdirSync(at(step.path));
      } else if (step.do === 'write') {
        if (step.backup !== undefined) {
          if (kindOf(work(step.backup)) !== undefined) renameSync(work(step.backup), at(step.path));
        } else if (kindOf(work(step.staged)) === undefined && kindOf(at(step.path)) !== undefined) {
          unlinkSync(at(step.path));
        }
      } else if (step.do === 'remove') {
        if (kindOf(work(step.backup)) !== undefined) renameSync(work(step.backup), at(step.path));
      } else if (kindOf(at(step.from)) === undefined && kindOf(at(step.to)) !== undefined) {
        renameSync(at(step.to), at(step.from));
      }
    } catch (error) {
      if (step.do !== 'mkdir') report(file, error);
    }
  }
}

/** Folders above `file` that no longer hold anything (a removed function's, a renamed package's) go too. */
function dropEmptied(root: string, file: string): void {
  for (let dir = path.dirname(file); dir !== '.'; dir = path.dirname(dir)) {
    try {
      rmdirSync(path.join(root, dir));
    } catch {
      return; // not empty: the user's files, or other generated ones, live there
    }
  }
}

export function commit(root: string, changes: readonly Change[], command: string): void {
  const work = path.join(root, WORK_DIR);
  const steps: Step[] = [];
  const made = new Set<string>();
  const ensureParents = (file: string) => {
    const parts = path.dirname(file).split('/').filter((p) => p !== '.');
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (made.has(dir)) continue;
      made.add(dir);
      const kind = kindOf(path.join(root, dir));
      if (kind === undefined) steps.push({ do: 'mkdir', path: dir, for: file });
      else if (kind !== 'folder') throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    }
  };

  let current = '';
  try {
    mkdirSync(path.join(root, STATE_DIR), { recursive: true });
    mkdirSync(work);
    changes.forEach((change, i) => {
      current = change.kind === 'move' ? change.to : change.path;
      if (change.kind === 'move') {
        ensureParents(change.to);
        steps.push({ do: 'move', from: change.from, to: change.to });
        return;
      }
      const target = path.join(root, change.path);
      const kind = kindOf(target);
      if (change.kind === 'remove') {
        if (kind === 'file') steps.push({ do: 'remove', path: change.path, backup: `old-${i}` });
        return;
      }
      if (kind !== undefined && kind !== 'file') throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      ensureParents(change.path);
      const staged = `new-${i}`;
      writeFileSync(path.join(work, staged), change.contents, { flag: 'wx' });
      // The umask would otherwise decide; an existing file keeps its own mode.
      const mode = change.executable ? EXECUTABLE : kind === 'file' ? lstatSync(target).mode & 0o7777 : undefined;
      if (mode !== undefined) chmodSync(path.join(work, staged), mode);
      steps.push({ do: 'write', path: change.path, staged, ...(kind === 'file' ? { backup: `old-${i}` } : {}) });
    });
    const journal: Journal = { pid: process.pid, host: hostname(), command, steps };
    writeFileSync(path.join(root, JOURNAL), JSON.stringify(journal));
  } catch (error) {
    dropWork(work);
    throw new WriteError(current, error, true);
  }

  let done = 0;
  try {
    for (const step of steps) {
      current = step.do === 'move' ? step.to : step.do === 'mkdir' ? step.for : step.path;
      const at = (p: string) => path.join(root, p);
      done++;
      if (step.do === 'mkdir') mkdirSync(at(step.path));
      else if (step.do === 'remove') renameSync(at(step.path), path.join(work, step.backup));
      else if (step.do === 'move') renameSync(at(step.from), at(step.to));
      else {
        if (step.backup !== undefined) renameSync(at(step.path), path.join(work, step.backup));
        renameSync(path.join(work, step.staged), at(step.path));
      }
    }
  } catch (error) {
    let undone = true;
    rollBack(root, steps.slice(0, done), (file, undoError) => {
      undone = false;
      process.stderr.write(`Could not put back ${file}: ${causeOf(undoError)}\n`);
    });
    if (undone) dropWork(work);
    throw new WriteError(current, error, undone);
  }
  // The commit point: from here on the run is done, whatever happens to the clean-up.
  renameSync(path.join(root, JOURNAL), path.join(root, DONE));
  cleanUp(root, steps);
}

/** Removes a file that may be gone already. */
function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

/** The work folder, empty on the common path (rmdir: Node 20's rmSync loads a module first), else with what is left in it. */
function dropWork(work: string): void {
  try {
    rmdirSync(work);
  } catch {
    rmSync(work, { recursive: true, force: true });
  }
}

/** After the commit point: the backups go, then the journal, so that a run cut off meanwhile still reads as done. */
function cleanUp(root: string, steps: readonly Step[]): void {
  const work = path.join(root, WORK_DIR);
  for (const step of steps) {
    if ((step.do === 'write' || step.do === 'remove') && step.backup !== undefined) unlinkQuietly(path.join(work, step.backup));
  }
  unlinkQuietly(path.join(root, DONE));
  dropWork(work);
  for (const step of steps) {
    if (step.do === 'remove') dropEmptied(root, step.path);
    if (step.do === 'move') dropEmptied(root, step.from);
  }
}

/**
 * Puts back what a run that stopped in the middle of its commit (killed, or its machine
 * gone) had changed, from its journal; returns the sentence that says so, or undefined when
 * there was nothing to put back. Called with the repository's lock held.
 */
export function recover(root: string): string | undefined {
  const work = path.join(root, WORK_DIR);
  const kind = kindOf(work);
  if (kind === undefined) return undefined;
  if (kind !== 'folder') throw new UsageError(`${WORK_DIR} is not a folder this generator made; remove it, then run again.`);
  const read = (file: string): Journal | undefined => {
    try {
      return JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Journal;
    } catch {
      return undefined; // none, or cut off while it was written (then no step had run)
    }
  };
  const journal = read(JOURNAL);
  if (journal !== undefined) {
    // A journal is input like .yo-rc.json: one that came with a clone must not steer a rename.
    const problem = journalProblem(journal);
    if (problem) throw new UsageError(`${JOURNAL} ${problem}, so this run will not act on it; if no run of this generator was cut off here, delete ${WORK_DIR}, then run again.`);
    assertWritable(root, journal.steps.flatMap((step) => (step.do === 'move' ? [step.from, step.to] : [step.path])));
    const failures: string[] = [];
    rollBack(root, journal.steps, (file, error) => failures.push(`${file} (${causeOf(error)})`));
    if (failures.length > 0) {
      throw new UsageError(
        `An earlier run (${journal.command}, pid ${journal.pid}) stopped while writing, and this run could not put back ${failures.join(', ')}; fix that, then run again (${JOURNAL} lists what that run changed).`,
      );
    }
    rmSync(work, { recursive: true, force: true });
    return `An earlier run (${journal.command}, pid ${journal.pid}) stopped while writing; every file it had changed is back as it was before it.`;
  }
  const done = read(DONE);
  if (done !== undefined && journalProblem(done) === null) {
    cleanUp(root, done.steps);
    return `An earlier run (${done.command}, pid ${done.pid}) stopped after it had written every change; the backups it left in ${WORK_DIR} are gone.`;
  }
  rmSync(work, { recursive: true, force: true });
  return `An earlier run stopped before it changed any file; what it had staged in ${WORK_DIR} is gone.`;
}

/** Why a journal is not one this generator left on this machine, or null. */
function journalProblem(journal: Journal): string | null {
  if (typeof journal !== 'object' || journal === null || !Array.isArray(journal.steps) || typeof journal.command !== 'string') return 'is not a journal this generator writes';
  if (journal.host !== hostname()) return `was written on another machine (${JSON.stringify(journal.host)})`;
  const own = (p: unknown) => typeof p === 'string' && relativePathProblem(p) === null && !p.split('/').some((part) => part.toLowerCase() === '.git');
  const name = (n: unknown) => typeof n === 'string' && /^(new|old)-\d+$/.test(n);
  for (const step of journal.steps as unknown as Record<string, unknown>[]) {
    const fine =
      step.do === 'mkdir' ? own(step.path)
      : step.do === 'write' ? own(step.path) && name(step.staged) && (step.backup === undefined || name(step.backup))
      : step.do === 'remove' ? own(step.path) && name(step.backup)
      : step.do === 'move' ? own(step.from) && own(step.to)
      : false;
    if (!fine) return `names a step this generator never takes (${JSON.stringify(step).slice(0, 80)})`;
  }
  return null;
}

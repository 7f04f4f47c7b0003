// Puts a decided run on the disk all or nothing: every new content is first written to
// a temporary file beside its target, then renamed into place; if any step fails, what
// was already replaced, removed or moved is put back, and the error names the file and
// the cause in one sentence. Both doors (yo and the bin) write through this.
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './answers.js';

export type Change =
  | { kind: 'write'; path: string; contents: string | Buffer; executable?: boolean }
  | { kind: 'remove'; path: string }
  | { kind: 'move'; from: string; to: string };

const EXECUTABLE = 0o755;

const CAUSES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space is left on the device',
  EDQUOT: 'the disk quota is used up',
  ENAMETOOLONG: 'the file name is too long',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'something is in the way',
};

/** A write that failed: its message is for the user as it is. */
export class WriteError extends UsageError {
  constructor(file: string, error: unknown, undone: boolean) {
    const code = (error as NodeJS.ErrnoException)?.code ?? '';
    const cause = CAUSES[code] ? `${CAUSES[code]} (${code})` : code || String((error as Error)?.message ?? error);
    super(
      `Could not write ${file}: ${cause}; ${undone ? 'every file is as it was before this run' : 'some files could not be put back, see above'}.`,
    );
  }
}

interface Undo {
  file: string;
  run: () => void;
}

/** The bytes and mode of a plain file, or undefined when there is none. */
function existing(target: string): { bytes: Buffer; mode: number } | undefined {
  try {
    const stat = lstatSync(target);
    return stat.isFile() ? { bytes: readFileSync(target), mode: stat.mode & 0o7777 } : undefined;
  } catch {
    return undefined;
  }
}

/** Makes the folders above `file` that are missing; returns them, outermost first. */
function makeParents(root: string, file: string): string[] {
  const made: string[] = [];
  const parts = path.dirname(file).split('/').filter((p) => p !== '.');
  for (let i = 1; i <= parts.length; i++) {
    const dir = path.join(root, ...parts.slice(0, i));
    try {
      mkdirSync(dir);
      made.push(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return made;
}

export function commit(root: string, changes: readonly Change[]): void {
  const temps = new Map<string, string>();
  const madeDirs: string[] = [];
  const undos: Undo[] = [];
  const cleanUp = () => {
    for (const temp of temps.values()) rmQuietly(temp);
    for (const dir of [...madeDirs].reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty (something else lives there now) or gone: leave it
      }
    }
  };
  let current = '';
  try {
    // 1. Every new content beside its target; nothing visible has changed yet.
    for (const change of changes) {
      if (change.kind === 'remove') continue;
      current = change.kind === 'move' ? change.to : change.path;
      madeDirs.push(...makeParents(root, current));
      if (change.kind !== 'write') continue;
      const target = path.join(root, change.path);
      const temp = `${target}.arpypi-${process.pid}.tmp`;
      const old = existing(target);
      writeFileSync(temp, change.contents, { flag: 'wx' });
      temps.set(change.path, temp);
      // The umask would otherwise decide; an existing file keeps its own mode.
      const mode = change.executable ? EXECUTABLE : old?.mode;
      if (mode !== undefined) chmodSync(temp, mode);
    }
    // 2. Renames and removals, each undone if a later one fails.
    for (const change of changes) {
      if (change.kind === 'write') {
        current = change.path;
        const target = path.join(root, change.path);
        const old = existing(target);
        renameSync(temps.get(change.path)!, target);
        temps.delete(change.path);
        undos.push({ file: change.path, run: () => (old ? restore(target, old) : unlinkSync(target)) });
      } else if (change.kind === 'remove') {
        current = change.path;
        const target = path.join(root, change.path);
        const old = existing(target);
        if (!old) continue;
        unlinkSync(target);
        undos.push({ file: change.path, run: () => restore(target, old) });
      } else {
        current = change.from;
        const from = path.join(root, change.from);
        const to = path.join(root, change.to);
        renameSync(from, to);
        undos.push({ file: change.from, run: () => renameSync(to, from) });
      }
    }
  } catch (error) {
    let undone = true;
    for (const undo of undos.reverse()) {
      try {
        undo.run();
      } catch (undoError) {
        undone = false;
        process.stderr.write(`Could not put back ${undo.file}: ${(undoError as Error).message}\n`);
      }
    }
    cleanUp();
    throw new WriteError(current, error, undone);
  }
  cleanUp();
  // Folders that removals emptied (a removed function's) go too; the repository root stays.
  for (const change of changes) {
    if (change.kind !== 'remove') continue;
    for (let dir = path.dirname(change.path); dir !== '.'; dir = path.dirname(dir)) {
      try {
        rmdirSync(path.join(root, dir));
      } catch {
        break; // not empty: the user's files, or other generated ones, live there
      }
    }
  }
}

function restore(target: string, old: { bytes: Buffer; mode: number }): void {
  const temp = `${target}.arpypi-${process.pid}.undo`;
  writeFileSync(temp, old.bytes);
  chmodSync(temp, old.mode);
  renameSync(temp, target);
}

function rmQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

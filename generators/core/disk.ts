// Reading the repository, and what a failed read or write says: one sentence naming the
// file (repository-relative) and the cause in words, never a bare error code.
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './answers.js';

const CAUSES: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space is left on the device',
  EDQUOT: 'the disk quota is used up',
  ENAMETOOLONG: 'the file name is too long',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'something is in the way',
  EXDEV: 'it is on another file system than the repository root',
  EIO: 'the disk reported an input/output error',
};

/** The cause of a failed file operation, in words with its code: "permission denied (EACCES)". */
export function causeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code ?? '';
  if (Object.hasOwn(CAUSES, code)) return `${CAUSES[code]} (${code})`;
  return code || String((error as Error)?.message ?? error);
}

/** A repository file's bytes, or undefined when there is none; any other failure is one sentence. */
export function readBytes(root: string, file: string): Buffer | undefined {
  try {
    return readFileSync(path.join(root, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UsageError(`Could not read ${file}: ${causeOf(error)}; nothing was written.`);
  }
}

/** A repository file's text (UTF-8), or undefined when there is none. */
export function readText(root: string, file: string): string | undefined {
  return readBytes(root, file)?.toString('utf8');
}

/** What is at `file`, without following a link; undefined when nothing (no exception thrown: first runs ask often). */
export function kindOf(file: string): 'file' | 'folder' | 'other' | undefined {
  try {
    const stat = lstatSync(file, { throwIfNoEntry: false });
    return stat === undefined ? undefined : stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'other';
  } catch {
    return undefined;
  }
}

// Where a run may write: repository-relative paths only, never out of the repository
// and never through a symbolic link, whatever .yo-rc.json or a flag says.
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './answers.js';

/** Null when `file` is a plain repository-relative path, else the rule it breaks. */
export function relativePathProblem(file: string): string | null {
  if (file === '' || path.isAbsolute(file) || file.includes('\\') || file.includes('\0')) {
    return 'is not a path inside the repository: a relative path with / between its parts';
  }
  if (file.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    return 'is not a path inside the repository: no empty, "." or ".." parts';
  }
  return null;
}

type Kind = 'link' | 'missing' | 'other';

/** The first part of `file` below `root` (the file itself included) that is a symbolic link. */
function linkOnPath(root: string, file: string, seen: Map<string, Kind>): string | undefined {
  const parts = file.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    let kind = seen.get(rel);
    if (kind === undefined) {
      try {
        const stat = lstatSync(`${root}/${rel}`, { throwIfNoEntry: false });
        kind = stat === undefined ? 'missing' : stat.isSymbolicLink() ? 'link' : 'other';
      } catch {
        kind = 'missing';
      }
      seen.set(rel, kind);
    }
    if (kind === 'link') return rel;
    if (kind === 'missing') return undefined; // nothing below a missing part can be a link yet
  }
  return undefined;
}

/** Refuses, in one sentence, any target that leaves the repository or lies on a symbolic link. */
export function assertWritable(root: string, files: Iterable<string>): void {
  // Functions share folders: each part of a path is looked at once.
  const seen = new Map<string, Kind>();
  for (const file of new Set(files)) {
    const problem = relativePathProblem(file);
    if (problem) throw new UsageError(`${JSON.stringify(file)} ${problem}; nothing was written.`);
    const link = linkOnPath(root, file, seen);
    if (link !== undefined) {
      throw new UsageError(
        `${link} is a symbolic link, and this generator never writes through one (${file}); replace it with a plain ${link === file ? 'file' : 'folder'}, then run again. Nothing was written.`,
      );
    }
  }
}

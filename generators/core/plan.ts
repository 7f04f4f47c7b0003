// Decides, file by file, what a run may do to the disk. The generator records the
// hash of every file it writes in .yo-rc.json; a file whose disk content no longer
// matches that hash was edited by the user and is never overwritten silently.
import { createHash } from 'node:crypto';
import type { RenderedFile } from './render.js';

export type Action = 'create' | 'update' | 'identical' | 'unchanged' | 'conflict' | 'force';

export interface PlannedFile extends RenderedFile {
  action: Action;
}

export const hashOf = (contents: string): string => createHash('sha256').update(contents).digest('hex').slice(0, 16);

export function planWrites(
  rendered: readonly RenderedFile[],
  readDisk: (path: string) => string | undefined,
  recorded: Readonly<Record<string, string>>,
  force: boolean,
): PlannedFile[] {
  return rendered.map((file) => {
    const disk = readDisk(file.path);
    if (disk === undefined) return { ...file, action: 'create' };
    if (disk === file.contents) return { ...file, action: 'identical' };
    const unedited = recorded[file.path] === hashOf(disk);
    if (unedited) return { ...file, action: 'update' };
    if (force) return { ...file, action: 'force' };
    // This run would write what the last one wrote: nothing new to bring, so a user's edit stands.
    if (recorded[file.path] === hashOf(file.contents)) return { ...file, action: 'unchanged' };
    return { ...file, action: 'conflict' };
  });
}

/**
 * The hashes to record after a run: what was written, and what was kept as it was.
 * Files this run does not make are no longer the generator's: removed, or left to the user.
 */
export function recordedAfter(
  planned: readonly PlannedFile[],
  recorded: Readonly<Record<string, string>>,
): Record<string, string> {
  const next: Record<string, string> = {};
  for (const file of planned) {
    const hash = file.action === 'conflict' ? recorded[file.path] : hashOf(file.contents);
    if (hash !== undefined) next[file.path] = hash;
  }
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Files an earlier run (or an older generator) wrote that this run no longer makes:
 * removed when unedited, kept and reported when the user changed them.
 */
export function planRemovals(
  rendered: readonly RenderedFile[],
  readDisk: (path: string) => string | undefined,
  recorded: Readonly<Record<string, string>>,
): { remove: string[]; keep: string[] } {
  const made = new Set(rendered.map((f) => f.path));
  const remove: string[] = [];
  const keep: string[] = [];
  for (const [file, hash] of Object.entries(recorded)) {
    if (made.has(file)) continue;
    const disk = readDisk(file);
    if (disk === undefined) continue;
    (hashOf(disk) === hash ? remove : keep).push(file);
  }
  return { remove, keep };
}

/** What a run tells the user about files it left alone or removed, one sentence each. */
export function runNotes(planned: readonly PlannedFile[], removals: { remove: readonly string[]; keep: readonly string[] }): string[] {
  const conflicts = planned.filter((f) => f.action === 'conflict').map((f) => f.path);
  const { remove, keep } = removals;
  return [
    ...(conflicts.length > 0
      ? [`Kept ${conflicts.length} file(s) you edited, which this run would change: ${conflicts.join(', ')}. Merge the change by hand, or run again with --force to overwrite them.`]
      : []),
    ...(remove.length > 0 ? [`Removed ${remove.length} file(s) this version no longer makes: ${remove.join(', ')}.`] : []),
    ...(keep.length > 0 ? [`Kept ${keep.length} file(s) you edited that this version no longer makes: ${keep.join(', ')}.`] : []),
  ];
}

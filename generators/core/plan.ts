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

/** The hashes to record after a run: what was written, and what was kept as it was. */
export function recordedAfter(
  planned: readonly PlannedFile[],
  recorded: Readonly<Record<string, string>>,
): Record<string, string> {
  const next: Record<string, string> = { ...recorded };
  for (const file of planned) {
    if (file.action !== 'conflict') next[file.path] = hashOf(file.contents);
  }
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
}

export const conflictMessage = (paths: readonly string[]): string =>
  `Kept ${paths.length} file(s) you edited, which this run would change: ${paths.join(', ')}. ` +
  'Merge the change by hand, or run again with --force to overwrite them.';

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

/** What recordedAfter leaves, less the files a run removed or no longer makes. */
export function withoutRemoved(recorded: Record<string, string>, rendered: readonly RenderedFile[]): Record<string, string> {
  const made = new Set(rendered.map((f) => f.path));
  return Object.fromEntries(Object.entries(recorded).filter(([file]) => made.has(file)));
}

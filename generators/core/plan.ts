// Decides, file by file, what a run does to the disk. `.yo-rc.json` records the hash of
// what the generator last rendered for each file, and `.arpypi/last-render.json.gz` the
// rendered wiring itself (bases.ts). A sample that exists is the user's and is never
// rewritten; an edited wiring file is merged three ways (base: the last render, ours: the
// disk, theirs: the new render) with node-diff3, as git merge-file would.
import { createHash } from 'node:crypto';
import { merge, mergeDiff3 } from 'node-diff3';
import type { Bases } from './bases.js';
import type { RenderedFile } from './render.js';
import { byText } from './rules.js';

export type Action =
  | 'create' // missing: written
  | 'update' // unedited since the last run: rewritten
  | 'identical' // already as rendered
  | 'unchanged' // edited, and this run brings nothing new to it: left as the user has it
  | 'yours' // a sample the user owns: never rewritten
  | 'merged' // edited, and the new render merged into it cleanly
  | 'conflict' // edited where the new render changes it too: written with conflict markers
  | 'unresolved' // still holds conflict markers from an earlier run: left alone
  | 'force'; // edited, and --force takes the new render

export interface PlannedFile extends RenderedFile {
  action: Action;
  /** What the run writes there, when it writes: the render, a merge, or conflict markers. */
  write?: string;
}

export const hashOf = (contents: string): string => createHash('sha256').update(contents).digest('hex').slice(0, 16);

const MARKERS = /^(<{7}|>{7}) /m;
const lines = (text: string): string[] => text.split('\n');

export function planWrites(
  rendered: readonly RenderedFile[],
  readDisk: (path: string) => string | undefined,
  recorded: Readonly<Record<string, string>>,
  /** The last renders, read only when an edited file needs a merge (most runs need none). */
  bases: () => Readonly<Bases>,
  force: boolean,
  version: string,
): PlannedFile[] {
  return rendered.map((file): PlannedFile => {
    const disk = readDisk(file.path);
    if (disk === undefined) return { ...file, action: 'create', write: file.contents };
    if (disk === file.contents) return { ...file, action: 'identical' };
    if (file.owner === 'sample') return { ...file, action: 'yours' };
    if (MARKERS.test(disk)) return force ? { ...file, action: 'force', write: file.contents } : { ...file, action: 'unresolved' };
    if (recorded[file.path] === hashOf(disk)) return { ...file, action: 'update', write: file.contents };
    // Edited. A run that would write what the last one wrote brings nothing new: the edit stands.
    if (recorded[file.path] === hashOf(file.contents)) return { ...file, action: 'unchanged' };
    if (force) return { ...file, action: 'force', write: file.contents };
    // Without the last render (a repository from before bases were kept), the whole file is the conflict.
    const last = bases()[file.path];
    const base = last !== undefined && hashOf(last) === recorded[file.path] ? last : '';
    const clean = merge(lines(disk), lines(base), lines(file.contents));
    if (!clean.conflict) return { ...file, action: 'merged', write: clean.result.join('\n') };
    const marked = mergeDiff3(lines(disk), lines(base), lines(file.contents), {
      label: { a: 'yours', o: 'last generated', b: `generator-arpypi ${version}` },
    });
    return { ...file, action: 'conflict', write: marked.result.join('\n') };
  });
}

/** The hash of each file's render, which later runs compare the disk with; sorted as Yeoman's storage would keep it. */
export function recordedAfter(planned: readonly PlannedFile[]): Record<string, string> {
  return Object.fromEntries(
    planned.map((f) => [f.path, hashOf(f.contents)] as const).sort(([a], [b]) => byText(a, b)),
  );
}

/** The last render of every wiring file, the base of the next run's merges. */
export function basesAfter(planned: readonly PlannedFile[]): Bases {
  return Object.fromEntries(planned.filter((f) => f.owner === 'wiring').map((f) => [f.path, f.contents]));
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

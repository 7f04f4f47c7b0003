// Decides, file by file, what a run does to the disk, and what it records of that.
// `.yo-rc.json` records, for each file, the hash of the render the file holds (the base of
// the next merge), and `.arpypi/last-render.json.gz` that render itself for wiring files
// (bases.ts). The records follow what is written, as git's index follows a checkout: a file
// the run writes from a render records that render; a file it leaves (conflict, unresolved,
// a sample) keeps its record, so the next run tries again. A sample that exists is the
// user's and is never rewritten; an edited wiring file is merged three ways (base: its
// recorded render, ours: the disk, theirs: the new render) with node-diff3, as
// `git merge-file` would. Line endings are the user's: CRLF and LF are the same text here.
import { createHash } from 'node:crypto';
import { merge, mergeDiff3 } from 'node-diff3';
import type { Bases } from './bases.js';
import type { RenderedFile } from './render.js';
import { byText } from './rules.js';

export type Action =
  | 'create' // missing: written
  | 'update' // unedited since the last run: rewritten
  | 'identical' // already as rendered
  | 'unchanged' // edited, and already holding every change of this render: left as the user has it
  | 'yours' // a sample the user owns: never rewritten
  | 'deleted' // a sample the user deleted: stays deleted
  | 'merged' // edited, and the new render merged into it cleanly
  | 'conflict' // edited where the new render changes it too: written with conflict markers
  | 'unresolved' // still holds conflict markers: left alone
  | 'force' // differs, and --force takes the new render
  | 'offered'; // there before the generator wrote it (or no base to merge with): kept, the render offered beside it

export interface PlannedFile extends RenderedFile {
  action: Action;
  /** What the run writes there, when it writes: the render, a merge, or conflict markers, in the file's line endings. */
  write?: string;
  /** The hash recorded after this run: the render the file holds, or its previous record; none: not recorded. */
  record?: string;
  /** The render kept as the next merge's base (wiring files with a record). */
  base?: string;
}

export const hashOf = (contents: string): string => createHash('sha256').update(contents).digest('hex').slice(0, 16);

/** Any of the four lines of a conflict, as git and this generator write them. */
const MARKERS = /^(?:(?:<{7}|\|{7}|>{7})(?: .*)?|={7})$/m;
export const holdsMarkers = (text: string): boolean => MARKERS.test(text);

/** The text with LF line endings, and the ending the file uses (CRLF when any line ends so). */
export function lineEndings(text: string): { lf: string; eol: '\n' | '\r\n' } {
  return text.includes('\r\n') ? { lf: text.replaceAll('\r\n', '\n'), eol: '\r\n' } : { lf: text, eol: '\n' };
}
const inEndings = (lf: string, eol: '\n' | '\r\n'): string => (eol === '\n' ? lf : lf.replaceAll('\n', '\r\n'));

const lines = (text: string): string[] => text.split('\n');

/** A three-way merge of LF texts: clean, or with git's diff3-style markers. */
export function mergeText(ours: string, base: string, theirs: string, version: string): { clean: boolean; text: string } {
  const clean = merge(lines(ours), lines(base), lines(theirs));
  if (!clean.conflict) return { clean: true, text: clean.result.join('\n') };
  const marked = mergeDiff3(lines(ours), lines(base), lines(theirs), {
    label: { a: 'yours', o: 'last generated', b: `generator-arpypi ${version}` },
  });
  return { clean: false, text: marked.result.join('\n') };
}

export function planWrites(
  rendered: readonly RenderedFile[],
  readDisk: (path: string) => string | undefined,
  recorded: ReadonlyMap<string, string>,
  /** The last renders, read only when a file needs one (most runs need none). */
  bases: () => Bases,
  /** Wiring files whose generated version still waits beside them for a merge by hand. */
  offered: ReadonlySet<string>,
  force: boolean,
  version: string,
): PlannedFile[] {
  return rendered.map((file): PlannedFile => {
    const previous = recorded.get(file.path);
    const base = (): string | undefined => {
      const last = bases().get(file.path);
      return last !== undefined && hashOf(last) === previous ? last : undefined;
    };
    const taken = (action: Action, write?: string): PlannedFile => ({
      ...file,
      action,
      ...(write !== undefined ? { write } : {}),
      record: hashOf(file.contents),
      ...(file.owner === 'wiring' ? { base: file.contents } : {}),
    });
    // Not written from this render: the record stays as it was, so the next run tries again.
    const left = (action: Action, write?: string): PlannedFile => {
      const last = file.owner === 'wiring' && previous !== undefined ? base() : undefined;
      return { ...file, action, ...(write !== undefined ? { write } : {}), ...(previous !== undefined ? { record: previous } : {}), ...(last !== undefined ? { base: last } : {}) };
    };

    const raw = readDisk(file.path);
    if (raw === undefined) return file.owner === 'sample' && previous !== undefined ? left('deleted') : taken('create', file.contents);
    const { lf: disk, eol } = lineEndings(raw);
    if (disk === file.contents) return taken('identical');
    if (file.owner === 'sample') return left('yours');
    // Offered and not merged yet: the user's file still, --force or not; the offer follows the render.
    if (offered.has(file.path)) return taken('offered');
    if (holdsMarkers(disk)) return force ? taken('force', inEndings(file.contents, eol)) : left('unresolved');
    // Never written by this generator: the user's file stays, with or without --force.
    if (previous === undefined) return taken('offered');
    if (hashOf(disk) === previous) return taken('update', inEndings(file.contents, eol));
    if (force) return taken('force', inEndings(file.contents, eol));
    // Edited, and the render is the one it was edited from: nothing new to bring.
    if (previous === hashOf(file.contents)) return taken('unchanged');
    const last = base();
    if (last === undefined) return taken('offered');
    const merged = mergeText(disk, last, file.contents, version);
    if (!merged.clean) return left('conflict', inEndings(merged.text, eol));
    return merged.text === disk ? taken('unchanged') : taken('merged', inEndings(merged.text, eol));
  });
}

/** The records after this run, sorted as Yeoman's storage would keep them. */
export function recordedAfter(planned: readonly PlannedFile[]): Record<string, string> {
  return Object.fromEntries(
    planned
      .filter((f) => f.record !== undefined)
      .map((f) => [f.path, f.record!] as const)
      .sort(([a], [b]) => byText(a, b)),
  );
}

/** The base of each recorded wiring file, for the next run's merges. */
export function basesAfter(planned: readonly PlannedFile[]): Bases {
  return new Map(planned.filter((f) => f.base !== undefined).map((f) => [f.path, f.base!]));
}

/**
 * Files an earlier run (or an older generator) wrote that this run no longer makes:
 * removed when unedited, kept and reported when the user changed them.
 */
export function planRemovals(
  rendered: readonly RenderedFile[],
  readDisk: (path: string) => string | undefined,
  recorded: ReadonlyMap<string, string>,
): { remove: string[]; keep: string[] } {
  const made = new Set(rendered.map((f) => f.path));
  const remove: string[] = [];
  const keep: string[] = [];
  for (const [file, hash] of recorded) {
    if (made.has(file)) continue;
    const disk = readDisk(file);
    if (disk === undefined) continue;
    (hashOf(lineEndings(disk).lf) === hash ? remove : keep).push(file);
  }
  return { remove, keep };
}

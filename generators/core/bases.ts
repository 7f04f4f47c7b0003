// What the generator last wrote of each wiring file: the base of a three-way merge
// when the user has edited a file that a re-run changes. Kept in the repository (so
// that any clone, and any later generator version, can merge), as one gzipped JSON
// map from path to content: about 12 KB for a repository with three functions.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export const BASES_FILE = '.arpypi/last-render.json.gz';

export type Bases = Record<string, string>;

/** The stored bases; an unreadable or missing file gives none (merges then fall back to keeping edits). */
export function readBases(root: string): Bases {
  try {
    const parsed: unknown = JSON.parse(gunzipSync(readFileSync(path.join(root, BASES_FILE))).toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Bases;
  } catch {
    return {};
  }
}

/** The file's bytes: sorted keys and gzip's fixed header make it the same for the same bases. */
export function encodeBases(bases: Bases): Buffer {
  const sorted = Object.fromEntries(Object.keys(bases).sort().map((k) => [k, bases[k]]));
  return gzipSync(JSON.stringify(sorted));
}

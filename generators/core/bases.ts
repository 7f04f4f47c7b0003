// What the generator last wrote of each wiring file: the base of a three-way merge
// when the user has edited a file that a re-run changes. Kept in the repository (so
// that any clone, and any later generator version, can merge), as one gzipped JSON
// map from path to content: about 12 KB for a repository with three functions.
import { gunzipSync, gzipSync } from 'node:zlib';
import { readBytes } from './disk.js';

/** The generator's own folder in a repository: the merge bases, and a run's lock and journal while it runs. */
export const STATE_DIR = '.arpypi';
export const BASES_FILE = `${STATE_DIR}/last-render.json.gz`;
/** Where the generated version of a wiring file waits when the user's own file was there first. */
export const OFFERS_DIR = `${STATE_DIR}/merge`;

/** Last renders by path (a Map: paths are data). */
export type Bases = ReadonlyMap<string, string>;

/** The file's bytes as found (undefined: none); unreadable is one sentence, as for any file. */
export const readBasesFile = (root: string): Buffer | undefined => readBytes(root, BASES_FILE);

/** The bases in those bytes; a damaged file gives none (a merge then keeps the user's file and says so). */
export function decodeBases(bytes: Buffer | undefined): Bases {
  if (bytes === undefined) return new Map();
  try {
    const parsed: unknown = JSON.parse(gunzipSync(bytes).toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return new Map();
    return new Map(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return new Map();
  }
}

/** The file's bytes: sorted keys and gzip's fixed header make it the same for the same bases. */
export function encodeBases(bases: Bases): Buffer {
  const sorted = Object.fromEntries([...bases.keys()].sort().map((k) => [k, bases.get(k)]));
  return gzipSync(JSON.stringify(sorted));
}

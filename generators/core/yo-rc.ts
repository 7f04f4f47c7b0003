// .yo-rc.json as Yeoman's storage reads and writes it, for the `arpypi` bin, which
// writes without Yeoman: the answers live under the generator's package name, keys
// keep their place when set again, and the file is JSON with 2 spaces and a newline.
import { UsageError } from './answers.js';
import { readText } from './disk.js';

export const YO_RC = '.yo-rc.json';
export const STORE_KEY = 'generator-arpypi';

export interface YoRc {
  /** The file's text as found, or undefined when there is none. */
  text: string | undefined;
  /** Everything in it, other generators' keys included. */
  full: Record<string, unknown>;
}

/** Deeper than any generator's answers nest; printing a deeper value would exhaust the stack. */
const MAX_DEPTH = 100;

function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_DEPTH) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export function readYoRc(root: string): YoRc {
  const text = readText(root, YO_RC);
  if (text === undefined) return { text: undefined, full: {} };
  let full: unknown;
  try {
    full = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${YO_RC} is not valid JSON (${(error as Error).message}); fix it, or remove it to start over.`);
  }
  if (!full || typeof full !== 'object' || Array.isArray(full)) {
    throw new UsageError(`${YO_RC} does not hold a JSON object; fix it, or remove it to start over.`);
  }
  if (depthOf(full) > MAX_DEPTH) {
    throw new UsageError(`${YO_RC} nests its values more than ${MAX_DEPTH} levels deep, which no generator writes; fix it, or remove it to start over.`);
  }
  return { text, full: full as Record<string, unknown> };
}

/** This generator's answers in it: a copy, so that setting keys leaves `yoRc` as read. */
export function storeOf(yoRc: YoRc): Record<string, unknown> {
  const store = yoRc.full[STORE_KEY];
  return store && typeof store === 'object' ? { ...(store as Record<string, unknown>) } : {};
}

/** The file with `store` in place of this generator's answers, formatted as Yeoman writes it. */
export function formatYoRc(yoRc: YoRc, store: Record<string, unknown>): string {
  return `${JSON.stringify({ ...yoRc.full, [STORE_KEY]: store }, null, 2)}\n`;
}

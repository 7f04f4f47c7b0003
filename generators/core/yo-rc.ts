// .yo-rc.json as Yeoman's storage reads and writes it, for the `arpypi` bin, which
// writes without Yeoman: the answers live under the generator's package name, keys
// keep their place when set again, and the file is JSON with 2 spaces and a newline.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './answers.js';

export const YO_RC = '.yo-rc.json';
export const STORE_KEY = 'generator-arpypi';

export interface YoRc {
  /** The file's text as found, or undefined when there is none. */
  text: string | undefined;
  /** Everything in it, other generators' keys included. */
  full: Record<string, unknown>;
}

export function readYoRc(root: string): YoRc {
  let text: string | undefined;
  try {
    text = readFileSync(path.join(root, YO_RC), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: undefined, full: {} };
    throw error;
  }
  let full: unknown;
  try {
    full = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${YO_RC} is not valid JSON (${(error as Error).message}); fix it, or remove it to start over.`);
  }
  if (!full || typeof full !== 'object' || Array.isArray(full)) {
    throw new UsageError(`${YO_RC} does not hold a JSON object; fix it, or remove it to start over.`);
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

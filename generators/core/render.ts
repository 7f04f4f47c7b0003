// Renders the file table into { path, contents } pairs. Pure: both the Yeoman
// generators and the bin decide how the result reaches the disk.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { stringify } from 'yaml';
import { createHash } from 'node:crypto';
import { FUNCTION_FILES, REPOSITORY_FILES } from './files.js';
import type { Owner } from './files.js';
import type { Model } from './model.js';
import { grantWords } from './iam-plan.js';
import { packageRoot } from './package-root.js';
import { PRECOMPILED } from './precompiled.js';

export interface RenderedFile {
  path: string;
  contents: string;
  executable: boolean;
  owner: Owner;
}

const defaultTemplateRoot = path.join(packageRoot, 'templates');
const cache = new Map<string, ejs.TemplateFunction>();

const yamlScalars = new Map<string | number | boolean, string>();

/**
 * Words that the YAML library prints as they are: a letter (or `--` and a letter) first,
 * then letters, digits and _ . / @ = -, and none of the words YAML reads as a boolean or
 * null. They skip the library (a 50-function repository has some 500 distinct values);
 * test/render.test.ts checks that the library prints each such word unchanged.
 */
export const PLAIN_WORD = /^(--)?[A-Za-z][A-Za-z0-9_./@=-]*$/;
const YAML_WORDS = /^(y|n|yes|no|on|off|true|false|null)$/i;

/** A YAML scalar (quoted when YAML needs it), for values inside templates; remembered, since every function's files repeat the same values. */
export const yaml = (value: unknown): string => {
  if (typeof value === 'string' && PLAIN_WORD.test(value) && !YAML_WORDS.test(value)) return value;
  const key = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
  let out = key === undefined ? undefined : yamlScalars.get(key);
  if (out === undefined) {
    out = stringify(value, { lineWidth: 0 }).trimEnd();
    if (key !== undefined) yamlScalars.set(key, out);
  }
  return out;
};

/** A single-quoted shell word. */
export const sh = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

// EJS's options, here and in bin/bundle.mjs. Without line tracking: it doubles compile time on
// every run, and the templates are tested.
export const EJS_OPTIONS = { compileDebug: false } as const;

function compiled(file: string): ejs.TemplateFunction {
  let fn = cache.get(file);
  if (!fn) {
    const source = readFileSync(file, 'utf8');
    const pre = PRECOMPILED.get(path.relative(defaultTemplateRoot, file));
    if (pre && pre.sha256 === createHash('sha256').update(source).digest('hex')) {
      // The function EJS made of this very source when the bin was bundled (EJS's parse of the
      // templates is some 10 ms of a run), called as ejs.compile's wrapper calls it: the data
      // copied onto a null-prototype object, EJS's escape. Made with Function, as EJS makes it:
      // the code is sloppy (`with`), which the bundle, an ES module, could not hold.
      const inner = new Function('locals, escapeFn, include, rethrow', pre.body) as (locals: object, escape: (s: string) => string) => string;
      fn = (data?: ejs.Data) => inner(Object.assign(Object.create(null) as object, data), ejs.escapeXML);
    } else {
      fn = ejs.compile(source, { ...EJS_OPTIONS, filename: file });
    }
    cache.set(file, fn);
  }
  return fn;
}

/** A trigger's tag names the hash of the rest of its content, so a changed file is told from an imported one. */
const stamped = (contents: string): string =>
  `${contents}tags:\n  - arpypi-${createHash('sha256').update(contents).digest('hex').slice(0, 12)}\n`;

/** Everything the repository holds for these answers, in a stable order. `templateRoot` is for tests. */
export function renderAll(model: Model, templateRoot = defaultTemplateRoot): RenderedFile[] {
  const render = (template: string, data: Record<string, unknown>): string =>
    compiled(path.join(templateRoot, template))({ ...data, yaml, sh, grantWords }) as string;
  const repository = REPOSITORY_FILES.map((entry) => {
    const contents = render(entry.template, { m: model });
    return { path: entry.path(model), contents: entry.trigger ? stamped(contents) : contents, executable: entry.executable === true, owner: entry.owner };
  });
  const functions = model.functions.flatMap((fn) =>
    FUNCTION_FILES.map((entry) => {
      const contents = render(entry.template(fn), { m: model, fn });
      return { path: entry.path(fn), contents: entry.trigger ? stamped(contents) : contents, executable: false, owner: entry.owner };
    }),
  );
  return [...repository, ...functions];
}

// Renders the file table into { path, contents } pairs. Pure: both the Yeoman
// generators and the bin decide how the result reaches the disk.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { stringify } from 'yaml';
import type { FunctionAnswers } from './answers.js';
import { FUNCTION_FILES, REPOSITORY_FILES, triggerName } from './files.js';
import type { Model } from './model.js';
import { packageRoot } from './package-root.js';

export interface RenderedFile {
  path: string;
  contents: string;
  executable: boolean;
}

const defaultTemplateRoot = path.join(packageRoot, 'templates');
const cache = new Map<string, ejs.TemplateFunction>();

/** A YAML scalar (quoted when YAML needs it), for values inside templates. */
export const yaml = (value: unknown): string => stringify(value, { lineWidth: 0 }).trimEnd();

/** A single-quoted shell word. */
export const sh = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

function compiled(file: string): ejs.TemplateFunction {
  let fn = cache.get(file);
  if (!fn) {
    fn = ejs.compile(readFileSync(file, 'utf8'), { filename: file });
    cache.set(file, fn);
  }
  return fn;
}

/** Everything the repository holds for these answers, in a stable order. `templateRoot` is for tests. */
export function renderAll(model: Model, templateRoot = defaultTemplateRoot): RenderedFile[] {
  const render = (template: string, data: Record<string, unknown>): string =>
    compiled(path.join(templateRoot, template))({ ...data, yaml, sh }) as string;
  const repository = REPOSITORY_FILES.map((entry) => ({
    path: entry.path(model),
    contents: render(entry.template, { m: model }),
    executable: entry.executable === true,
  }));
  const functions = model.functions.flatMap((fn) =>
    FUNCTION_FILES.map((entry) => ({
      path: entry.path(model, fn),
      contents: render(entry.template, { m: model, fn, triggerName: triggerName(fn) }),
      executable: entry.executable === true,
    })),
  );
  return [...repository, ...functions];
}

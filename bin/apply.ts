// A plan -> the disk, with node:fs: what mem-fs-editor's commit would do for the
// same files (parent folders made, mode 0755 set on executables, other modes kept).
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Action } from '../generators/core/plan.js';
import { YO_RC } from '../generators/core/yo-rc.js';
import type { Plan } from './runs.js';

const WRITES: ReadonlySet<Action> = new Set(['create', 'update', 'force']);
const EXECUTABLE = 0o755;

/** A line per file the run changes or keeps from changing: the action, then the path, as yo prints them. */
export function describe(plan: Plan): string[] {
  const { before, after } = plan.yoRc;
  const yoRcAction = before === undefined ? 'create' : before === after ? 'identical' : 'update';
  const files = [
    ...plan.files.map((f) => [f.action, f.path]),
    ...plan.removals.remove.map((p) => ['remove', p]),
    ...plan.removals.keep.map((p) => ['keep', p]),
    [yoRcAction, YO_RC],
  ];
  // A repository with many functions would otherwise list every file it already has.
  const identical = files.filter(([action]) => action === 'identical').length;
  return [
    ...files.filter(([action]) => action !== 'identical').map(([action, file]) => `${action.padStart(9)} ${file}`),
    ...(identical > 0 ? [`${'identical'.padStart(9)} ${identical} other file(s)`] : []),
  ];
}

export function apply(plan: Plan, root: string): void {
  for (const file of plan.files) {
    if (!WRITES.has(file.action)) continue;
    const target = path.join(root, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.contents, file.executable ? { mode: EXECUTABLE } : undefined);
    // writeFile's mode applies to new files only, and through the umask.
    if (file.executable && (statSync(target).mode & 0o777) !== EXECUTABLE) chmodSync(target, EXECUTABLE);
  }
  for (const file of plan.removals.remove) rmSync(path.join(root, file), { force: true });
  if (plan.yoRc.after !== plan.yoRc.before) writeFileSync(path.join(root, YO_RC), plan.yoRc.after);
}

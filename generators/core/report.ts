// What a run tells the user, worded once for both doors: a line per file it changes
// (as yo prints them), then a short summary and the next command to run. A file is
// called identical or up to date only when it equals its render.
import { OFFERS_DIR } from './bases.js';
import type { Decision, Plan } from './run.js';

const line = (action: string, file: string): string => `${action.padStart(10)} ${file}`;
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const QUIET = new Set(['identical', 'unchanged', 'yours', 'deleted']);

export function report(plan: Plan, decision: Decision, dryRun: boolean): string[] {
  const by = (...actions: string[]) => plan.files.filter((f) => actions.includes(f.action)).map((f) => f.path);
  const records = (action: 'create' | 'update') => plan.records.filter((r) => r.action === action).length;
  const created = by('create').length + records('create');
  const updated = by('update', 'force').length + records('update');
  const merged = by('merged');
  const conflicts = by('conflict');
  const unresolved = by('unresolved');
  const deleted = by('deleted');
  const identical = by('identical').length;
  const kept = by('yours', 'unchanged', 'offered').length;
  const moved = plan.rename ? plan.rename.moves.length + plan.rename.dropped.length : 0;
  const removed = plan.removals.remove.length;
  const out: string[] = [...(plan.recovered ? [plan.recovered] : []), ...decision.warnings];

  out.push(
    ...(moved > 0 ? [line('move', `${plan.rename!.from} -> ${plan.rename!.to}`)] : []),
    ...plan.files.filter((f) => !QUIET.has(f.action)).map((f) => line(f.action, f.path)),
    ...plan.removals.remove.map((file) => line('remove', file)),
    ...plan.removals.keep.map((file) => line('keep', `${file} (you edited it; no longer generated)`)),
    ...plan.records.map((r) => line(r.action, r.path)),
  );
  if (identical > 0 && identical < plan.files.length) out.push(line('identical', count(identical, 'other file')));
  if (kept > 0) out.push(line('keep', `${count(kept, 'file')} of yours as you have ${kept === 1 ? 'it' : 'them'}`));

  const done = (past: string, now: string) => (dryRun ? now : past);
  const parts = [
    created > 0 && `${done('created', 'create')} ${count(created, 'file')}`,
    updated > 0 && `${done('updated', 'update')} ${count(updated, 'file')}`,
    merged.length > 0 && `${done('merged', 'merge')} ${count(merged.length, 'file')} with your edits`,
    conflicts.length > 0 && `${done('wrote', 'write')} ${count(conflicts.length, 'file')} with conflict markers`,
    moved > 0 && `${done('moved', 'move')} ${count(moved, 'file')} of the package's code`,
    removed > 0 && `${done('removed', 'remove')} ${count(removed, 'file')}`,
    kept > 0 && `${done('kept', 'keep')} ${count(kept, 'file')} of yours as you have ${kept === 1 ? 'it' : 'them'}`,
  ].filter(Boolean);
  const changedAny = created + updated + merged.length + conflicts.length + moved + removed > 0;
  if (changedAny) out.push('', `${dryRun ? 'Would' : 'Done:'} ${parts.join(', ')}.`);
  else if (identical === plan.files.length) out.push('', 'Nothing to change: every file is up to date.');
  else {
    const state = [
      identical > 0 && `${count(identical, 'file')} as generated`,
      kept > 0 && `${count(kept, 'file')} of yours as you have ${kept === 1 ? 'it' : 'them'}`,
      unresolved.length > 0 && `${count(unresolved.length, 'file')} with conflict markers`,
      deleted.length > 0 && `${count(deleted.length, 'sample')} you deleted`,
    ].filter(Boolean);
    out.push('', `No file to write: ${state.join(', ')}.`);
  }

  if (moved > 0) out.push(`${dryRun ? 'Would move' : 'Moved'} your package code from ${plan.rename!.from} to ${plan.rename!.to}, since the package was renamed.`);
  if (plan.oldImports.length > 0) {
    const [from, to] = [plan.rename?.from, plan.rename?.to].map((p) => p?.split('/').pop());
    out.push(`Still importing the old import name${from ? ` ${from}` : ''}: ${plan.oldImports.join(', ')}; change ${plan.oldImports.length === 1 ? 'its imports' : 'their imports'}${to ? ` to ${to}` : ''}.`);
  }
  if (plan.removals.keep.length > 0) {
    out.push(`Kept ${count(plan.removals.keep.length, 'file')} you edited that this run no longer makes: ${plan.removals.keep.join(', ')}; delete them when you no longer need them.`);
  }
  if (conflicts.length > 0) {
    out.push(
      `Conflicts in ${conflicts.join(', ')}: your edits and the generator's change overlap; ${dryRun ? 'a run would write' : 'each file now holds'} both between <<<<<<< and >>>>>>> lines. Resolve them, then run again: the next run merges again from the same base, and is quiet once the file holds the generator's change (or run with --force to take the generator's version).`,
    );
  }
  if (unresolved.length > 0) {
    out.push(`Still unresolved: ${unresolved.join(', ')}: conflict marker lines (<<<<<<<, |||||||, ======= or >>>>>>>) are still there; resolve them and run again, or run with --force to take the generator's version.`);
  }
  if (plan.offered.length > 0) {
    const one = plan.offered.length === 1;
    out.push(
      `To merge by hand: ${plan.offered.join(', ')}: kept as you have ${one ? 'it' : 'them'}, --force or not, since this generator did not write ${one ? 'it' : 'them'} (or has no base to merge with); the generated ${one ? 'version is' : 'versions are'} in ${OFFERS_DIR}/ under the same ${one ? 'path' : 'paths'}: merge what you need, then delete ${one ? 'that copy' : 'those copies'}.`,
    );
  }
  if (deleted.length > 0) {
    out.push(`Samples you deleted stay deleted: ${deleted.join(', ')}; to have one back, remove its entry from "files" in .yo-rc.json and run again.`);
  }
  out.push(...decision.notes);
  if (dryRun) out.push(plan.recovered ? 'Dry run: nothing else was written.' : 'Dry run: nothing was written.');
  else if (by('create', 'update', 'force', 'merged').length + moved + removed > 0 && conflicts.length === 0) {
    out.push('Next: bash scripts/setup-gcp.sh --dry-run to see what the Google Cloud project needs, then bash scripts/setup-gcp.sh, commit and git push (README.md: "Go live").');
  }
  return out;
}

// What a run tells the user, worded once for both doors: a line per file it changes
// (as yo prints them), then a short summary and the next command to run.
import type { Decision, Plan } from './run.js';

const line = (action: string, file: string): string => `${action.padStart(10)} ${file}`;
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

export function report(plan: Plan, decision: Decision, dryRun: boolean): string[] {
  const by = (...actions: string[]) => plan.files.filter((f) => actions.includes(f.action)).map((f) => f.path);
  const created = by('create');
  const changed = by('update', 'force');
  const merged = by('merged');
  const conflicts = by('conflict');
  const unresolved = by('unresolved');
  const kept = by('yours', 'unchanged');
  const quiet = plan.files.length - created.length - changed.length - merged.length - conflicts.length - unresolved.length;
  const out: string[] = [...decision.warnings];

  out.push(
    ...plan.moves.map((m) => line('move', `${m.from} -> ${m.to}`)),
    ...plan.files.filter((f) => !['identical', 'unchanged', 'yours'].includes(f.action)).map((f) => line(f.action, f.path)),
    ...plan.removals.remove.map((file) => line('remove', file)),
    ...plan.removals.keep.map((file) => line('keep', `${file} (you edited it; no longer generated)`)),
    ...plan.records.map((r) => line(r.action, r.path)),
  );
  if (quiet > 0) out.push(line('identical', `${count(quiet, 'other file')}`));

  const parts = [
    created.length > 0 && `${dryRun ? 'create' : 'created'} ${count(created.length, 'file')}`,
    changed.length > 0 && `${dryRun ? 'update' : 'updated'} ${count(changed.length, 'file')}`,
    merged.length > 0 && `${dryRun ? 'merge' : 'merged'} ${count(merged.length, 'file')} with your edits`,
    plan.removals.remove.length > 0 && `${dryRun ? 'remove' : 'removed'} ${count(plan.removals.remove.length, 'file')}`,
    kept.length > 0 && `${dryRun ? 'keep' : 'kept'} ${count(kept.length, 'file')} of yours as you have them`,
  ].filter(Boolean);
  const changedAny = created.length + changed.length + merged.length + plan.removals.remove.length + plan.moves.length > 0;
  out.push('', changedAny ? `${dryRun ? 'Would' : 'Done:'} ${parts.join(', ')}.` : 'Nothing to change: every file is up to date.');
  for (const m of plan.moves) out.push(`Moved your package code from ${m.from} to ${m.to}, since the package was renamed.`);
  if (plan.removals.keep.length > 0) {
    out.push(`Kept ${count(plan.removals.keep.length, 'file')} you edited that this run no longer makes: ${plan.removals.keep.join(', ')}; delete them when you no longer need them.`);
  }
  if (conflicts.length > 0) {
    out.push(
      `Conflicts in ${conflicts.join(', ')}: your edits and the generator's change overlap; ${dryRun ? 'a run would write' : 'each file now holds'} both between <<<<<<< and >>>>>>> lines. Resolve them, then run again (or run with --force to take the generator's version).`,
    );
  }
  if (unresolved.length > 0) {
    out.push(`Still unresolved: ${unresolved.join(', ')}: the conflict markers of an earlier run are still there; resolve them and run again, or run with --force to take the generator's version.`);
  }
  out.push(...decision.notes);
  if (dryRun) out.push('Dry run: nothing was written.');
  else if (changedAny && conflicts.length === 0) {
    out.push('Next: bash scripts/setup-gcp.sh --dry-run to see what the Google Cloud project needs, then bash scripts/setup-gcp.sh, commit and git push (README.md: "Go live").');
  }
  return out;
}

// What the two Yeoman generators share: declaring options from the core's table,
// asking for what is missing, and writing rendered files through this.fs.
import type { Stats } from 'node:fs';
import path from 'node:path';
import Generator from 'yeoman-generator';
import type { BaseOptions } from 'yeoman-generator';
import { assertValid, pickValues, UsageError, withDefaults } from '../core/answers.js';
import { gcloudProject } from '../core/gcloud.js';
import { missingUnderYes } from '../core/unattended.js';
import type { OptionSpec } from '../core/options.js';
import { planRemovals, planWrites, recordedAfter, runNotes } from '../core/plan.js';
import type { RenderedFile } from '../core/render.js';

export { UsageError };

const EXECUTABLE = { mode: 0o100755 } as Stats;

export type ArpypiOptions = BaseOptions & { yes?: boolean; force?: boolean; dryRun?: boolean; name?: string } & Record<string, unknown>;

export abstract class ArpypiGenerator extends Generator {
  protected get opts(): ArpypiOptions {
    return this.options as ArpypiOptions;
  }

  /** `--dry-run`: list what would change, write nothing (not even .yo-rc.json). */
  protected get dryRun(): boolean {
    return this.opts.dryRun === true;
  }

  protected declareOptions(specs: readonly OptionSpec[]): void {
    this.option('dryRun', { type: Boolean, description: 'List what would change and write nothing' });
    this.option('force', { type: Boolean, description: 'Overwrite files you edited' });
    for (const spec of specs) {
      this.option(spec.key, { type: spec.type === 'boolean' ? Boolean : String, description: spec.description });
    }
  }

  /** Flags given on this run, checked against their rules before anything else. */
  protected givenFlags(specs: readonly OptionSpec[]): Record<string, unknown> {
    const given = pickValues(specs, this.options as Record<string, unknown>);
    assertValid(specs, given, 'flag');
    return given;
  }

  protected defaultContext() {
    return {
      folderName: path.basename(this.destinationRoot()),
      gcloudProject: () => gcloudProject(),
    };
  }

  /** Asks for every option with a prompt that has no value yet; under --yes, fails instead. */
  protected async complete(specs: readonly OptionSpec[], values: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ctx = this.defaultContext();
    if (this.opts.yes !== true) {
      for (const spec of specs.filter((s) => s.message && values[s.key] === undefined)) {
        const suggested = spec.default?.({ ...ctx, values });
        const answer = await this.prompt<Record<string, string>>([
          {
            type: spec.choices ? 'select' : 'input',
            name: spec.key,
            message: spec.message!,
            choices: spec.choices ? [...spec.choices] : undefined,
            default: suggested,
            filter: (v: string) => (typeof v === 'string' ? v.trim() : v),
            validate: (v: string) => {
              const broken = spec.check?.(String(v ?? '').trim());
              return broken ? `"${v}" ${broken}.` : true;
            },
          } as never,
        ]);
        values = { ...values, [spec.key]: answer[spec.key] };
      }
    }
    const { values: filled, missing } = withDefaults(specs, values, ctx);
    if (missing.length > 0) throw missingUnderYes(missing, filled);
    return filled;
  }

  /** Writes through this.fs, never over a file the user edited unless --force. */
  protected writeRendered(files: readonly RenderedFile[]): void {
    const recorded = (this.config.get('files') ?? {}) as Record<string, string>;
    const readDisk = (p: string) => (this.fs.exists(this.destinationPath(p)) ? this.fs.read(this.destinationPath(p)) : undefined);
    // yo hands --force to the environment (for its conflicter) rather than to the generator.
    const force = this.opts.force === true || (this.env as unknown as { options?: { force?: boolean } }).options?.force === true;
    const planned = planWrites(files, readDisk, recorded, force);
    const removals = planRemovals(files, readDisk, recorded);
    const { remove, keep } = removals;
    if (this.dryRun) {
      const changes = [
        ...planned.filter((f) => f.action !== 'identical' && f.action !== 'unchanged').map((f) => `${f.action} ${f.path}`),
        ...remove.map((p) => `remove ${p}`),
        ...keep.map((p) => `keep ${p} (edited, no longer generated)`),
      ];
      this.log.info(changes.length > 0 ? `Dry run, nothing written. Would:\n  ${changes.join('\n  ')}` : 'Dry run: nothing would change.');
      return;
    }
    for (const file of planned) {
      if (file.action === 'identical' || file.action === 'unchanged' || file.action === 'conflict') continue;
      const target = this.destinationPath(file.path);
      this.fs.write(target, file.contents, file.executable ? { stat: EXECUTABLE } : undefined);
      if (file.action !== 'create') {
        // Ours to overwrite: recorded as written by us and unedited, or --force.
        (this.fs.store.get(target) as { conflicter?: string }).conflicter = 'force';
      }
    }
    // Files this version no longer makes go when unedited; edited ones stay, reported.
    for (const file of remove) {
      this.fs.delete(this.destinationPath(file));
      (this.fs.store.get(this.destinationPath(file)) as { conflicter?: string }).conflicter = 'force';
    }
    this.config.set('files', recordedAfter(planned, recorded));
    for (const note of runNotes(planned, removals)) this.log.info(note);
  }
}

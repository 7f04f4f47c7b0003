// What the two Yeoman generators share: declaring options from the core's table,
// asking for what is missing, and writing rendered files through this.fs.
import { execFileSync } from 'node:child_process';
import type { Stats } from 'node:fs';
import path from 'node:path';
import Generator from 'yeoman-generator';
import type { BaseOptions } from 'yeoman-generator';
import { pickValues, UsageError, withDefaults, missingError, assertValid } from '../core/answers.js';
import type { OptionSpec } from '../core/options.js';
import { conflictMessage, planWrites, recordedAfter } from '../core/plan.js';
import type { RenderedFile } from '../core/render.js';

export { UsageError };

const EXECUTABLE = { mode: 0o100755 } as Stats;

export type ArpypiOptions = BaseOptions & { yes?: boolean; force?: boolean; name?: string } & Record<string, unknown>;

export abstract class ArpypiGenerator extends Generator {
  protected get opts(): ArpypiOptions {
    return this.options as ArpypiOptions;
  }

  protected declareOptions(specs: readonly OptionSpec[]): void {
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
    if (missing.length > 0) {
      const multiRegion = missing.some((s) => s.key === 'functionRegion') && typeof filled.region === 'string';
      throw missingError(
        missing,
        multiRegion
          ? `--yes takes each value from a flag, .yo-rc.json or a default, and these have none (--function-region has no default when --region is the multi-region ${filled.region}, since a function runs in one region)`
          : '--yes takes each value from a flag, .yo-rc.json or a default, and these have none',
      );
    }
    return filled;
  }

  /** Writes through this.fs, never over a file the user edited unless --force. */
  protected writeRendered(files: readonly RenderedFile[]): void {
    const recorded = (this.config.get('files') ?? {}) as Record<string, string>;
    const planned = planWrites(
      files,
      (p) => (this.fs.exists(this.destinationPath(p)) ? this.fs.read(this.destinationPath(p)) : undefined),
      recorded,
      this.opts.force === true,
    );
    for (const file of planned) {
      if (file.action === 'identical' || file.action === 'unchanged' || file.action === 'conflict') continue;
      const target = this.destinationPath(file.path);
      this.fs.write(target, file.contents, file.executable ? { stat: EXECUTABLE } : undefined);
      if (file.action !== 'create') {
        // Ours to overwrite: recorded as written by us and unedited, or --force.
        (this.fs.store.get(target) as { conflicter?: string }).conflicter = 'force';
      }
    }
    this.config.set('files', recordedAfter(planned, recorded));
    const conflicts = planned.filter((f) => f.action === 'conflict').map((f) => f.path);
    if (conflicts.length > 0) this.log.info(conflictMessage(conflicts));
  }
}

/** `gcloud config get-value project`, when gcloud is there and answers. */
function gcloudProject(): string | undefined {
  try {
    const out = execFileSync('gcloud', ['config', 'get-value', 'project'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).trim();
    return out && out !== '(unset)' ? out : undefined;
  } catch {
    return undefined;
  }
}

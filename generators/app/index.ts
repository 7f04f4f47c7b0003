// `yo arpypi`: lays out the whole repository from the answers, and re-renders it
// (every function included) when run again with new answers.
import { carriedOver, finishApp, pickValues, STORED_APP_KEYS, UsageError } from '../core/answers.js';
import type { AppAnswers, FunctionAnswers } from '../core/answers.js';
import { buildModel } from '../core/model.js';
import { APP_OPTIONS, FUNCTION_OPTIONS, RUN_OPTIONS } from '../core/options.js';
import { generatorVersion } from '../core/package-root.js';
import { renderAll } from '../core/render.js';
import { ArpypiGenerator } from '../yeoman/base.js';
import { checkRecordedVersion, storedFunctions } from '../core/stored.js';

export default class AppGenerator extends ArpypiGenerator {
  private values: Record<string, unknown> = {};
  private answers!: AppAnswers;

  constructor(args?: string[], options?: Record<string, unknown>) {
    super(args ?? [], (options ?? {}) as never);
    this.declareOptions([...APP_OPTIONS, ...RUN_OPTIONS]);
  }

  initializing() {
    const stored = this.config.getAll();
    checkRecordedVersion(stored, generatorVersion);
    const given = this.givenFlags(APP_OPTIONS);
    this.values = { ...pickValues(APP_OPTIONS, carriedOver(stored, given)), ...given };
  }

  async prompting() {
    const { function: _first, ...values } = this.values;
    const filled = await this.complete(APP_OPTIONS, values);
    this.values = { ...filled, function: this.values.function };
  }

  configuring() {
    const { answers, warnings } = finishApp(this.values);
    for (const warning of warnings) this.log.info(warning);
    this.answers = answers;
    if (this.dryRun) return;
    for (const key of STORED_APP_KEYS) this.config.set(key, answers[key as keyof AppAnswers]);
    this.config.set('version', generatorVersion);
  }

  async default() {
    const first = this.values.function;
    if (typeof first === 'string' && !(first in storedFunctions(this.config.getAll()))) {
      await this.composeWith(new URL('../function/index.js', import.meta.url).pathname, {
        generatorArgs: [first],
        generatorOptions: { yes: this.opts.yes, force: this.opts.force, dryRun: this.opts.dryRun } as never,
      });
    }
  }

  writing() {
    const functions: FunctionAnswers[] = Object.values(storedFunctions(this.config.getAll()));
    this.writeRendered(renderAll(buildModel(this.answers, functions, generatorVersion)));
  }
}

export { UsageError };

// `yo arpypi:function NAME`: adds functions/NAME and its trigger to a repository
// made by `yo arpypi`, with the project, region, repository and auth mode stored there.
import { finishApp, finishFunction, pickValues, UsageError } from '../core/answers.js';
import type { AppAnswers, FunctionAnswers } from '../core/answers.js';
import { buildModel } from '../core/model.js';
import { APP_OPTIONS, FUNCTION_OPTIONS, RUN_OPTIONS } from '../core/options.js';
import { generatorVersion } from '../core/package-root.js';
import { renderAll } from '../core/render.js';
import { checkRecordedVersion, storedFunctions } from '../core/stored.js';
import { ArpypiGenerator } from '../yeoman/base.js';

export default class FunctionGenerator extends ArpypiGenerator {
  private app!: AppAnswers;
  private fn!: FunctionAnswers;
  private given: Record<string, unknown> = {};
  private functions: FunctionAnswers[] = [];

  constructor(args?: string[], options?: Record<string, unknown>) {
    super(args ?? [], (options ?? {}) as never);
    this.argument('name', { type: String, required: false, description: 'Function name: lowercase letters, digits and hyphens' });
    this.declareOptions([...FUNCTION_OPTIONS, ...RUN_OPTIONS]);
  }

  initializing() {
    const name = this.opts.name as string | undefined;
    if (!name) throw new UsageError('Give the function a name: yo arpypi:function NAME.');
    const stored = this.config.getAll();
    checkRecordedVersion(stored, generatorVersion);
    if (typeof stored.projectId !== 'string') {
      throw new UsageError(
        `No repository made by yo arpypi here (${this.destinationRoot()} has no .yo-rc.json with its answers); run yo arpypi first, or run this in that repository's root.`,
      );
    }
    this.app = finishApp(pickValues(APP_OPTIONS, stored)).answers;
    if (name in storedFunctions(stored) || this.fs.exists(this.destinationPath('functions', name, 'main.py'))) {
      throw new UsageError(`The function "${name}" exists already (functions/${name}); choose another name.`);
    }
    this.given = this.givenFlags(FUNCTION_OPTIONS);
    finishFunction(name, {}); // the name's rule, before anything is asked
  }

  async configuring() {
    const values = await this.complete(FUNCTION_OPTIONS, { pythonVersion: this.app.pythonVersion, ...this.given });
    this.fn = finishFunction(this.opts.name as string, values);
    const functions = { ...storedFunctions(this.config.getAll()), [this.fn.name]: this.fn };
    this.functions = Object.values(functions);
    if (!this.dryRun) this.config.set('functions', functions);
  }

  writing() {
    this.writeRendered(renderAll(buildModel(this.app, this.functions, generatorVersion)));
  }
}

// The complete, derived view of the answers that templates read. Templates compute
// nothing themselves: every name they need is spelt out here once.
import type { AppAnswers, FunctionAnswers } from './answers.js';
import { importName, isMultiRegion, normalizedName, runtimeFor } from './rules.js';

export interface Model extends AppAnswers {
  importName: string;
  normalizedName: string;
  runtime: string;
  /** The repository URL as Cloud Build derives it (dynamic substitutions). */
  pypiUrlSubstitution: string;
  /** The same URL with today's values, for the README. */
  pypiUrl: string;
  buildServiceAccount: string;
  multiRegion: boolean;
  /** The trigger's branch filter: a regular expression that matches only this branch. */
  branchPattern: string;
  functions: FunctionAnswers[];
  generatorVersion: string;
}

export const BUILD_ACCOUNT_NAME = 'arpypi-build';

export function buildModel(answers: AppAnswers, functions: FunctionAnswers[], generatorVersion: string): Model {
  return {
    ...answers,
    importName: importName(answers.packageName),
    normalizedName: normalizedName(answers.packageName),
    runtime: runtimeFor(answers.pythonVersion),
    pypiUrlSubstitution: 'https://${_REGION}-python.pkg.dev/${PROJECT_ID}/${_REPO}/',
    pypiUrl: `https://${answers.region}-python.pkg.dev/${answers.projectId}/${answers.repository}/`,
    buildServiceAccount: `${BUILD_ACCOUNT_NAME}@${answers.projectId}.iam.gserviceaccount.com`,
    multiRegion: isMultiRegion(answers.region),
    branchPattern: `^${answers.branch.replace(/[.]/g, '\\.')}$`,
    functions: [...functions].sort((a, b) => a.name.localeCompare(b.name)),
    generatorVersion,
  };
}

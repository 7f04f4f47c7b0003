// Which template makes which file. Templates live under templates/, named after the
// file they produce; dotfiles are stored without their dot so tools here ignore them.
import type { FunctionAnswers } from './answers.js';
import type { Model } from './model.js';

export interface FileEntry {
  template: string;
  path: (model: Model, fn: FunctionAnswers) => string;
  executable?: boolean;
}

type RepoFile = Omit<FileEntry, 'path'> & { path: (model: Model) => string };

/** Files of the repository as a whole: written by `yo arpypi`. */
export const REPOSITORY_FILES: readonly RepoFile[] = [
  { template: 'app/README.md.ejs', path: () => 'README.md' },
  { template: 'app/gitignore.ejs', path: () => '.gitignore' },
  { template: 'app/package/pyproject.toml.ejs', path: () => 'package/pyproject.toml' },
  { template: 'app/package/README.md.ejs', path: () => 'package/README.md' },
  { template: 'app/package/src/__init__.py.ejs', path: (m) => `package/src/${m.importName}/__init__.py` },
  { template: 'app/package/tests/test_package.py.ejs', path: (m) => `package/tests/test_${m.importName}.py` },
  { template: 'app/package/cloudbuild.yaml.ejs', path: () => 'package/cloudbuild.yaml' },
  { template: 'app/scripts/prepare-requirements.sh.ejs', path: () => 'scripts/prepare-requirements.sh', executable: true },
  { template: 'app/scripts/check-version-unpublished.py.ejs', path: () => 'scripts/check-version-unpublished.py', executable: true },
  { template: 'app/triggers/package.yaml.ejs', path: () => 'triggers/package.yaml' },
];

/** Files of one function: written by `yo arpypi:function NAME`. */
export const FUNCTION_FILES: readonly FileEntry[] = [
  { template: 'function/main.py.ejs', path: (_m, fn) => `functions/${fn.name}/main.py` },
  { template: 'function/test_main.py.ejs', path: (_m, fn) => `functions/${fn.name}/test_main.py` },
  { template: 'function/requirements.txt.tmpl.ejs', path: (_m, fn) => `functions/${fn.name}/requirements.txt.tmpl` },
  { template: 'function/gcloudignore.ejs', path: (_m, fn) => `functions/${fn.name}/.gcloudignore` },
  { template: 'function/gitignore.ejs', path: (_m, fn) => `functions/${fn.name}/.gitignore` },
  { template: 'function/cloudbuild.yaml.ejs', path: (_m, fn) => `functions/${fn.name}/cloudbuild.yaml` },
  { template: 'function/trigger.yaml.ejs', path: (_m, fn) => `triggers/${triggerName(fn)}.yaml` },
];

export const PACKAGE_TRIGGER = 'package-release';
export const triggerName = (fn: FunctionAnswers): string => `fn-${fn.name}`;

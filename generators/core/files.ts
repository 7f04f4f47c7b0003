// Which template makes which file. Templates live under templates/, named after the
// file they produce; dotfiles are stored without their dot so tools here ignore them.
// Conditions are data: a function's files come from the folder of its trigger kind.
import type { FunctionModel, Model } from './model.js';

export interface RepoFile {
  template: string;
  path: (model: Model) => string;
  executable?: boolean;
  /** A Cloud Build trigger: stamped with a tag that hashes its content (setup-gcp.sh compares it). */
  trigger?: boolean;
}

export interface FunctionFile {
  template: (fn: FunctionModel) => string;
  path: (fn: FunctionModel) => string;
  trigger?: boolean;
}

/** Files of the repository as a whole: written by `yo arpypi`. */
export const REPOSITORY_FILES: readonly RepoFile[] = [
  { template: 'app/README.md.ejs', path: () => 'README.md' },
  { template: 'app/gitignore.ejs', path: () => '.gitignore' },
  { template: 'app/cloudbuild-pr.yaml.ejs', path: () => 'cloudbuild-pr.yaml' },
  { template: 'app/package/pyproject.toml.ejs', path: () => 'package/pyproject.toml' },
  { template: 'app/package/README.md.ejs', path: () => 'package/README.md' },
  { template: 'app/package/src/__init__.py.ejs', path: (m) => `package/src/${m.importName}/__init__.py` },
  { template: 'app/package/tests/test_package.py.ejs', path: (m) => `package/tests/test_${m.importName}.py` },
  { template: 'app/package/cloudbuild.yaml.ejs', path: () => 'package/cloudbuild.yaml' },
  { template: 'app/scripts/prepare-requirements.sh.ejs', path: () => 'scripts/prepare-requirements.sh', executable: true },
  { template: 'app/scripts/check-version-unpublished.py.ejs', path: () => 'scripts/check-version-unpublished.py', executable: true },
  { template: 'app/scripts/setup-gcp.sh.ejs', path: () => 'scripts/setup-gcp.sh', executable: true },
  { template: 'app/triggers/package.yaml.ejs', path: () => 'triggers/package.yaml', trigger: true },
  { template: 'app/triggers/pull-request.yaml.ejs', path: () => 'triggers/pull-request.yaml', trigger: true },
];

/** Files of one function: written by `yo arpypi:function NAME`. */
export const FUNCTION_FILES: readonly FunctionFile[] = [
  { template: (fn) => `function/${fn.triggerKind}/main.py.ejs`, path: (fn) => `functions/${fn.name}/main.py` },
  { template: (fn) => `function/${fn.triggerKind}/test_main.py.ejs`, path: (fn) => `functions/${fn.name}/test_main.py` },
  { template: () => 'function/requirements.txt.tmpl.ejs', path: (fn) => `functions/${fn.name}/requirements.txt.tmpl` },
  { template: () => 'function/gcloudignore.ejs', path: (fn) => `functions/${fn.name}/.gcloudignore` },
  { template: () => 'function/gitignore.ejs', path: (fn) => `functions/${fn.name}/.gitignore` },
  { template: () => 'function/cloudbuild.yaml.ejs', path: (fn) => `functions/${fn.name}/cloudbuild.yaml` },
  { template: () => 'function/trigger.yaml.ejs', path: (fn) => `triggers/${fn.triggerName}.yaml`, trigger: true },
];

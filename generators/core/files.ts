// Which template makes which file. Templates live under templates/, named after the
// file they produce; dotfiles are stored without their dot so tools here ignore them.
// Conditions are data: a function's files come from the folder of its trigger kind.
// Ownership is data too: a sample is written when missing and is the user's from then
// on; wiring stays the generator's and is updated by three-way merge when edited.
import type { FunctionModel, Model } from './model.js';

/** `sample`: the user's code, written once; `wiring`: the generator's, merged on re-runs. */
export type Owner = 'sample' | 'wiring';

export interface RepoFile {
  template: string;
  owner: Owner;
  path: (model: Model) => string;
  executable?: boolean;
  /** A Cloud Build trigger: stamped with a tag that hashes its content (setup-gcp.sh compares it). */
  trigger?: boolean;
}

export interface FunctionFile {
  template: (fn: FunctionModel) => string;
  owner: Owner;
  path: (fn: FunctionModel) => string;
  trigger?: boolean;
}

/** Files of the repository as a whole: written by `yo arpypi`. */
export const REPOSITORY_FILES: readonly RepoFile[] = [
  { owner: 'wiring', template: 'app/README.md.ejs', path: () => 'README.md' },
  { owner: 'wiring', template: 'app/gitignore.ejs', path: () => '.gitignore' },
  { owner: 'wiring', template: 'app/cloudbuild-pr.yaml.ejs', path: () => 'cloudbuild-pr.yaml' },
  { owner: 'wiring', template: 'app/pyproject.toml.ejs', path: () => 'pyproject.toml' },
  { owner: 'wiring', template: 'app/conftest.py.ejs', path: () => 'conftest.py' },
  { owner: 'wiring', template: 'app/noxfile.py.ejs', path: () => 'noxfile.py' },
  { owner: 'wiring', template: 'app/pre-commit-config.yaml.ejs', path: () => '.pre-commit-config.yaml' },
  { owner: 'wiring', template: 'app/renovate.json.ejs', path: () => 'renovate.json' },
  { owner: 'wiring', template: 'app/python-version.ejs', path: () => '.python-version' },
  { owner: 'wiring', template: 'app/package/pyproject.toml.ejs', path: () => 'package/pyproject.toml' },
  { owner: 'wiring', template: 'app/package/README.md.ejs', path: () => 'package/README.md' },
  { owner: 'sample', template: 'app/package/src/__init__.py.ejs', path: (m) => `package/src/${m.importName}/__init__.py` },
  { owner: 'sample', template: 'app/package/src/py.typed.ejs', path: (m) => `package/src/${m.importName}/py.typed` },
  { owner: 'sample', template: 'app/package/tests/test_package.py.ejs', path: (m) => `package/tests/test_${m.importName}.py` },
  { owner: 'sample', template: 'app/package/CHANGELOG.md.ejs', path: () => 'package/CHANGELOG.md' },
  { owner: 'wiring', template: 'app/package/cloudbuild.yaml.ejs', path: () => 'package/cloudbuild.yaml' },
  { owner: 'wiring', template: 'app/scripts/prepare-requirements.sh.ejs', path: () => 'scripts/prepare-requirements.sh', executable: true },
  { owner: 'wiring', template: 'app/scripts/check-version-unpublished.py.ejs', path: () => 'scripts/check-version-unpublished.py', executable: true },
  { owner: 'wiring', template: 'app/scripts/wait-for-release.py.ejs', path: () => 'scripts/wait-for-release.py', executable: true },
  { owner: 'wiring', template: 'app/scripts/release_tools.py.ejs', path: () => 'scripts/release_tools.py' },
  { owner: 'wiring', template: 'app/scripts/test_release_tools.py.ejs', path: () => 'scripts/test_release_tools.py' },
  { owner: 'wiring', template: 'app/constraints.txt.ejs', path: () => 'constraints.txt' },
  { owner: 'wiring', template: 'app/scripts/setup-gcp.sh.ejs', path: () => 'scripts/setup-gcp.sh', executable: true },
  { owner: 'wiring', template: 'app/triggers/package.yaml.ejs', path: () => 'triggers/package.yaml', trigger: true },
  { owner: 'wiring', template: 'app/triggers/pull-request.yaml.ejs', path: () => 'triggers/pull-request.yaml', trigger: true },
];

/** Files of one function: written by `yo arpypi:function NAME`. */
export const FUNCTION_FILES: readonly FunctionFile[] = [
  { owner: 'sample', template: (fn) => `function/${fn.triggerKind}/main.py.ejs`, path: (fn) => `functions/${fn.name}/main.py` },
  { owner: 'sample', template: (fn) => `function/${fn.triggerKind}/test_main.py.ejs`, path: (fn) => `functions/${fn.name}/test_main.py` },
  { owner: 'sample', template: () => 'function/requirements.in.ejs', path: (fn) => `functions/${fn.name}/requirements.in` },
  { owner: 'wiring', template: () => 'function/gcloudignore.ejs', path: (fn) => `functions/${fn.name}/.gcloudignore` },
  { owner: 'wiring', template: () => 'function/gitignore.ejs', path: (fn) => `functions/${fn.name}/.gitignore` },
  { owner: 'wiring', template: () => 'function/cloudbuild.yaml.ejs', path: (fn) => `functions/${fn.name}/cloudbuild.yaml` },
  { owner: 'wiring', template: () => 'function/trigger.yaml.ejs', path: (fn) => `triggers/${fn.triggerName}.yaml`, trigger: true },
];

/**
 * Files earlier versions made and this one no longer does: still the generator's, so
 * .yo-rc.json may record them, and a run removes them when unedited. None yet.
 */
export const RETIRED_FILES: readonly Pick<RepoFile, 'path'>[] = [];

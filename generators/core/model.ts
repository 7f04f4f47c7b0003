// The complete, derived view of the answers that templates read. Templates compute
// nothing themselves: every name they need is spelt out here once.
import { createHash } from 'node:crypto';
import type { AppAnswers, FunctionAnswers } from './answers.js';
import { FUNCTION_FILES, REPOSITORY_FILES } from './files.js';
import { importName, isMultiRegion, normalizedName, runtimeFor } from './rules.js';

export type TriggerKind = 'http' | 'topic' | 'bucket';

export interface FunctionModel extends FunctionAnswers {
  triggerKind: TriggerKind;
  /** The topic or bucket after `topic:` / `bucket:`. */
  topic?: string;
  bucket?: string;
  /** The runtime identity, and its id (the part before @). */
  runtimeAccount: string;
  runtimeAccountId: string;
  /** True when the account is the per-function one that setup-gcp.sh creates. */
  dedicatedAccount: boolean;
  /** The Cloud Build trigger that deploys it. */
  triggerName: string;
  /** How the README names the trigger. */
  triggerLabel: string;
}

/** How pip reaches the package: `virtual` (one index: the private repository first, PyPI behind it) or `private` (the private repository beside PyPI). */
export type IndexLayout = 'virtual' | 'private';

export interface Model extends AppAnswers {
  index: IndexLayout;
  virtualIndex: boolean;
  /** The PyPI remote repository and the virtual repository over it and the private one (virtual layout). */
  remoteRepository: string;
  virtualRepository: string;
  /** The repository pip reads: the virtual one, or the private one. */
  indexRepository: string;
  /** The URL pip reads (`--index-url`, or `--extra-index-url` with the private layout), as Cloud Build derives it. */
  indexUrlSubstitution: string;
  indexUrl: string;
  /** Builder images: Google's Cloud SDK image by its current name, and Python's. */
  cloudSdkImage: string;
  pythonImage: string;
  importName: string;
  normalizedName: string;
  runtime: string;
  /** The repository URL as Cloud Build derives it (dynamic substitutions). */
  pypiUrlSubstitution: string;
  /** The same URL with today's values, for the README. */
  pypiUrl: string;
  buildAccountName: string;
  buildServiceAccount: string;
  /** `projects/P/serviceAccounts/EMAIL`, as triggers name it. */
  buildServiceAccountResource: string;
  /** The account Cloud Functions builds a function's image as (--build-service-account). */
  functionBuildAccountName: string;
  functionBuildServiceAccount: string;
  functionBuildServiceAccountResource: string;
  /** A project role holding only what redeploys need to set a function's invoker policy. */
  invokerPolicyRoleId: string;
  multiRegion: boolean;
  /** The trigger's branch filter: a regular expression that matches only this branch. */
  branchPattern: string;
  functions: FunctionModel[];
  /** Every trigger file, repository-relative. */
  triggerFiles: string[];
  generatorVersion: string;
}

export const BUILD_ACCOUNT_NAME = 'arpypi-build';
export const FUNCTION_BUILD_ACCOUNT_NAME = 'arpypi-fn-build';
export const INVOKER_POLICY_ROLE = 'arpypiInvokerPolicy';
export const CLOUD_SDK_IMAGE = 'gcr.io/google.com/cloudsdktool/google-cloud-cli:stable';
export const functionTriggerName = (name: string): string => `fn-${name}`;

/** A service account id (6 to 30 characters) for a function's own runtime identity. */
export function runtimeAccountId(name: string): string {
  const id = `fn-${name}`;
  if (id.length < 6) return `${id}-run`;
  if (id.length <= 30) return id;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  return `fn-${name.slice(0, 20).replace(/-+$/, '')}-${hash}`;
}

/** A repository id derived from another (at most 63 characters, as Artifact Registry allows). */
export function derivedRepositoryId(repository: string, suffix: string): string {
  const id = `${repository}-${suffix}`;
  return id.length <= 63 ? id : `${repository.slice(0, 62 - suffix.length).replace(/-+$/, '')}-${suffix}`;
}

function functionModel(fn: FunctionAnswers, projectId: string): FunctionModel {
  const trigger = fn.trigger ?? 'http';
  const [kind, target] = trigger.includes(':') ? trigger.split(/:(.*)/s) : [trigger, undefined];
  const dedicated = !fn.serviceAccount;
  const account = fn.serviceAccount ?? `${runtimeAccountId(fn.name)}@${projectId}.iam.gserviceaccount.com`;
  return {
    ...fn,
    trigger,
    triggerKind: kind as TriggerKind,
    ...(kind === 'topic' ? { topic: target } : {}),
    ...(kind === 'bucket' ? { bucket: target } : {}),
    runtimeAccount: account,
    runtimeAccountId: account.split('@')[0],
    dedicatedAccount: dedicated,
    triggerName: functionTriggerName(fn.name),
    triggerLabel: kind === 'topic' ? `Pub/Sub topic \`${target}\`` : kind === 'bucket' ? `Cloud Storage bucket \`${target}\`` : 'HTTP',
  };
}

export function buildModel(answers: AppAnswers, functions: FunctionAnswers[], generatorVersion: string): Model {
  const buildServiceAccount = `${BUILD_ACCOUNT_NAME}@${answers.projectId}.iam.gserviceaccount.com`;
  const functionBuildServiceAccount = `${FUNCTION_BUILD_ACCOUNT_NAME}@${answers.projectId}.iam.gserviceaccount.com`;
  const fns = [...functions].sort((a, b) => a.name.localeCompare(b.name)).map((fn) => functionModel(fn, answers.projectId));
  const index: IndexLayout = (answers as AppAnswers & { index?: IndexLayout }).index ?? 'virtual';
  const virtualRepository = derivedRepositoryId(answers.repository, 'index');
  const indexRepository = index === 'virtual' ? virtualRepository : answers.repository;
  const model: Omit<Model, 'triggerFiles'> = {
    ...answers,
    index,
    virtualIndex: index === 'virtual',
    remoteRepository: derivedRepositoryId(answers.repository, 'pypi'),
    virtualRepository,
    indexRepository,
    indexUrlSubstitution: 'https://${_REGION}-python.pkg.dev/${PROJECT_ID}/${_INDEX_REPO}/',
    indexUrl: `https://${answers.region}-python.pkg.dev/${answers.projectId}/${indexRepository}/`,
    cloudSdkImage: CLOUD_SDK_IMAGE,
    pythonImage: `python:${answers.pythonVersion}-slim`,
    importName: importName(answers.packageName),
    normalizedName: normalizedName(answers.packageName),
    runtime: runtimeFor(answers.pythonVersion),
    pypiUrlSubstitution: 'https://${_REGION}-python.pkg.dev/${PROJECT_ID}/${_REPO}/',
    pypiUrl: `https://${answers.region}-python.pkg.dev/${answers.projectId}/${answers.repository}/`,
    buildAccountName: BUILD_ACCOUNT_NAME,
    buildServiceAccount,
    buildServiceAccountResource: `projects/${answers.projectId}/serviceAccounts/${buildServiceAccount}`,
    functionBuildAccountName: FUNCTION_BUILD_ACCOUNT_NAME,
    functionBuildServiceAccount,
    functionBuildServiceAccountResource: `projects/${answers.projectId}/serviceAccounts/${functionBuildServiceAccount}`,
    invokerPolicyRoleId: INVOKER_POLICY_ROLE,
    multiRegion: isMultiRegion(answers.region),
    branchPattern: `^${answers.branch.replace(/[.]/g, '\\.')}$`,
    functions: fns,
    generatorVersion,
  };
  // The file table says which files are triggers; paths of triggers depend on no trigger list.
  const triggerFiles = [
    ...REPOSITORY_FILES.filter((f) => f.trigger).map((f) => f.path(model as Model)),
    ...fns.flatMap((fn) => FUNCTION_FILES.filter((f) => f.trigger).map((f) => f.path(fn))),
  ];
  return { ...model, triggerFiles };
}

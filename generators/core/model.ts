// The complete, derived view of the answers that templates read. Templates compute
// nothing themselves: every name they need is spelt out here once.
import { createHash } from 'node:crypto';
import type { AppAnswers, FunctionAnswers } from './answers.js';
import { FUNCTION_FILES, REPOSITORY_FILES } from './files.js';
import { iamPlan, identities } from './iam-plan.js';
import type { Grant, Identity } from './iam-plan.js';
import { byText, importName, isMultiRegion, normalizedName, runtimeFor } from './rules.js';
import type { DEPRECATED_PYTHON_VERSIONS, IndexLayout, PYTHON_VERSIONS } from './rules.js';

export type TriggerKind = 'http' | 'topic' | 'bucket';

export interface FunctionModel extends FunctionAnswers {
  /** Its own runtime, or the Python version's. */
  runtime: string;
  triggerKind: TriggerKind;
  /** The topic or bucket after `topic:` / `bucket:`. */
  topic?: string;
  bucket?: string;
  /** The runtime identity, and its id (the part before @). */
  runtimeAccount: string;
  runtimeAccountId: string;
  /** True when the account is the per-function one that setup-gcp.sh creates. */
  dedicatedAccount: boolean;
  /**
   * Topic and bucket functions: the account Eventarc delivers events as
   * (--trigger-service-account), the function's own and distinct from its runtime account;
   * setup-gcp.sh creates it and lets it invoke this function only.
   */
  triggerAccount?: string;
  triggerAccountId?: string;
  /** The Cloud Build trigger that deploys it. */
  triggerName: string;
  /** How the README names the trigger. */
  triggerLabel: string;
}


export interface Model extends AppAnswers {
  index: IndexLayout;
  virtualIndex: boolean;
  /** The PyPI remote repository and the virtual repository over it and the private one (virtual layout). */
  remoteRepository: string;
  virtualRepository: string;
  /** The repository pip reads: the virtual one, or the private one. */
  indexRepository: string;
  /** The Docker repository, in the functions' region, that their builds push images to (--docker-repository). */
  imagesRepository: string;
  imagesRepositoryResource: string;
  /** The URL pip reads (`--index-url`, or `--extra-index-url` with the private layout), as Cloud Build derives it. */
  indexUrlSubstitution: string;
  indexUrl: string;
  /** Builder images, pinned by version: Google's Cloud SDK image (slim: it has python3) and Python's. */
  cloudSdkImage: string;
  pythonImage: string;
  functionsFrameworkVersion: string;
  /** ruff's version (constraints.txt, pre-commit) and its target, e.g. py312. */
  ruffVersion: string;
  ruffTarget: string;
  /**
   * The oldest Python any code here runs on: the repository's, each function's runtime, and
   * the Cloud SDK image's python3 that runs the deploy scripts. ruff and mypy check for it, so
   * that no syntax of a newer Python (3.14's `except A, B:`) reaches an older one.
   */
  oldestPython: string;
  /** Modules ruff's isort sorts as this repository's own. */
  firstPartyModules: string[];
  /** SOURCE_DATE_EPOCH of every build: a fixed time, so the same source gives the same wheel. */
  sourceDateEpoch: string;
  /** The generated renovate.json, as data. */
  renovate: Record<string, unknown>;
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
  /** A project role holding only what a deploy needs to set a function's invoker policy (public functions only). */
  invokerPolicyRoleId: string;
  /** The account pull-request checks run as: build logs, nothing else. */
  prAccountName: string;
  prServiceAccount: string;
  prServiceAccountResource: string;
  /** Token mode: the account whose short-lived token requirements.txt carries; it can only read the repository. */
  readerAccountName: string;
  readerServiceAccount: string;
  /** A project role holding only what `gcloud functions deploy` checks (cloudfunctions.developer also invokes every service). */
  deployerRoleId: string;
  multiRegion: boolean;
  /** Triggers on a Cloud Build repository (2nd gen), rather than 1st-gen GitHub App triggers. */
  secondGen: boolean;
  /** Where the builds and triggers live: the functions' region (2nd gen), or global (GitHub App). */
  buildRegion: string;
  /** The git host as people write it, and the repository's web page. */
  gitHostName: string;
  repositoryWebUrl: string;
  /** 2nd gen: the connection (projects/P/locations/R/connections/C) and the linked repository in it. */
  connectionResource: string;
  repositoryLinkId: string;
  repositoryLinkResource: string;
  /** What the link clones: https://github.com/OWNER/REPO.git or https://gitlab.com/GROUP/REPO.git. */
  remoteUri: string;
  /** The trigger's branch filter: a regular expression that matches only this branch. */
  branchPattern: string;
  functions: FunctionModel[];
  /** Every trigger file, repository-relative. */
  triggerFiles: string[];
  /** Every role binding setup-gcp.sh makes for the pipelines' accounts (iam-plan.ts). */
  grants: Grant[];
  /** Each account, what runs as it and what it can do. */
  identities: Identity[];
  generatorVersion: string;
}

export const BUILD_ACCOUNT_NAME = 'arpypi-build';
export const FUNCTION_BUILD_ACCOUNT_NAME = 'arpypi-fn-build';
export const INVOKER_POLICY_ROLE = 'arpypiInvokerPolicy';
/**
 * The gcloud steps' image: bash, gcloud and Debian's python3. `:stable` has no python3 on x86_64,
 * Cloud Build's workers (cloud-sdk-docker stable/Dockerfile); `:VERSION-slim` installs it
 * (debian_slim/Dockerfile). 594.0.0: the Cloud CLI release of 2026-11-17. Renovate bumps it.
 */
export const CLOUD_SDK_IMAGE = 'gcr.io/google.com/cloudsdktool/google-cloud-cli:594.0.0-slim';
/** Each Python's newest patch in docker-library/python's versions.json (2026-06-23), on Debian trixie. */
export const PYTHON_IMAGES: Readonly<Record<(typeof PYTHON_VERSIONS)[number] | (typeof DEPRECATED_PYTHON_VERSIONS)[number], string>> = {
  '3.10': 'python:3.10.20-slim-trixie',
  '3.11': 'python:3.11.15-slim-trixie',
  '3.12': 'python:3.12.13-slim-trixie',
  '3.13': 'python:3.13.14-slim-trixie',
  '3.14': 'python:3.14.6-slim-trixie',
};
export function pythonImageFor(version: string): string {
  const image = (PYTHON_IMAGES as Record<string, string>)[version];
  if (!image) throw new Error(`Python ${version} has no builder image in PYTHON_IMAGES (generators/core/model.ts)`);
  return image;
}
/** What every function's requirements pin (PyPI's newest, 2026-06), so the buildpack adds none of its own. */
export const FUNCTIONS_FRAMEWORK_VERSION = '3.10.2';
/** The ruff that constraints.txt and pre-commit pin; the tests run the same version (@astral-sh/ruff-wasm-nodejs). */
export const RUFF_VERSION = '0.17.4';
/** The python3 of CLOUD_SDK_IMAGE: Debian trixie's (cloud-sdk-docker debian_slim/Dockerfile installs python3). */
export const CLOUD_SDK_PYTHON = '3.13';
/** 1980-01-01, the earliest time a zip file can hold: a fixed timestamp for reproducible wheels. */
export const SOURCE_DATE_EPOCH = '315532800';

/**
 * Renovate's settings: images in the build configs (pinned by digest), the tools of
 * constraints.txt, each function's requirements.in and hashed lock, the package's
 * pyproject.toml (pep621, on by default), pre-commit's revisions. Python's minor version
 * stays where the generator put it (yo arpypi --python-version changes it).
 */
function renovateSettings(): Record<string, unknown> {
  return {
    $schema: 'https://docs.renovatebot.com/renovate-schema.json',
    extends: ['config:recommended'],
    pip_requirements: { managerFilePatterns: ['/(^|/)constraints\\.txt$/', '/(^|/)requirements\\.in$/'] },
    'pip-compile': { managerFilePatterns: ['/(^|/)requirements\\.lock$/'] },
    cloudbuild: { managerFilePatterns: ['/(^|/)cloudbuild(-pr)?\\.yaml$/'] },
    'pre-commit': { enabled: true },
    pinDigests: true,
    packageRules: [
      { matchDatasources: ['docker'], matchPackageNames: ['python'], matchUpdateTypes: ['major', 'minor'], enabled: false },
      { description: 'ruff in constraints.txt and in pre-commit move together', matchPackageNames: ['ruff', 'astral-sh/ruff-pre-commit'], groupName: 'ruff' },
    ],
  };
}
export const DEPLOYER_ROLE = 'arpypiFunctionDeployer';
export const PR_ACCOUNT_NAME = 'arpypi-pr';
export const READER_ACCOUNT_NAME = 'arpypi-reader';
export const functionTriggerName = (name: string): string => `fn-${name}`;

/**
 * A service account id (6 to 30 characters) made of a two-letter PREFIX and a function name,
 * distinct for distinct names: `PREFIX-NAME` when that fits; otherwise `PREFIXh-`, the start
 * of NAME, `-` and 8 hex digits of its sha256. The two forms never meet (the third character
 * is `-` in one, `h` in the other), so `a` and `a-run` no longer share `fn-a-run`.
 */
export function accountIdFor(prefix: 'fn' | 'ev', name: string): string {
  const id = `${prefix}-${name}`;
  if (id.length >= 6 && id.length <= 30) return id;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${prefix}h-${name.slice(0, 17).replace(/-+$/, '')}-${hash}`;
}

/** A repository id derived from another (at most 63 characters, as Artifact Registry allows). */
export function derivedRepositoryId(repository: string, suffix: string): string {
  const id = `${repository}-${suffix}`;
  return id.length <= 63 ? id : `${repository.slice(0, 62 - suffix.length).replace(/-+$/, '')}-${suffix}`;
}

/** A function's own runtime identity. */
export const runtimeAccountId = (name: string): string => accountIdFor('fn', name);
/** The identity that delivers a topic or bucket function's events. */
export const triggerAccountId = (name: string): string => accountIdFor('ev', name);

function functionModel(fn: FunctionAnswers, projectId: string, functionRegion: string, runtime: string): FunctionModel {
  const trigger = fn.trigger ?? 'http';
  const [kind, target] = trigger.includes(':') ? trigger.split(/:(.*)/s) : [trigger, undefined];
  const dedicated = !fn.serviceAccount;
  const account = fn.serviceAccount ?? `${runtimeAccountId(fn.name)}@${projectId}.iam.gserviceaccount.com`;
  const eventId = kind === 'http' ? undefined : triggerAccountId(fn.name);
  return {
    ...fn,
    runtime: fn.runtime ?? runtime,
    trigger,
    triggerKind: kind as TriggerKind,
    ...(kind === 'topic' ? { topic: target } : {}),
    ...(kind === 'bucket' ? { bucket: target } : {}),
    runtimeAccount: account,
    runtimeAccountId: account.split('@')[0],
    dedicatedAccount: dedicated,
    ...(eventId ? { triggerAccountId: eventId, triggerAccount: `${eventId}@${projectId}.iam.gserviceaccount.com` } : {}),
    triggerName: functionTriggerName(fn.name),
    triggerLabel: kind === 'topic' ? `Pub/Sub topic \`${target}\`` : kind === 'bucket' ? `Cloud Storage bucket \`${target}\`` : 'HTTP',
  };
}

export function buildModel(answers: AppAnswers, functions: FunctionAnswers[], generatorVersion: string): Model {
  const buildServiceAccount = `${BUILD_ACCOUNT_NAME}@${answers.projectId}.iam.gserviceaccount.com`;
  const functionBuildServiceAccount = `${FUNCTION_BUILD_ACCOUNT_NAME}@${answers.projectId}.iam.gserviceaccount.com`;
  const fns = [...functions].sort((a, b) => byText(a.name, b.name)).map((fn) => functionModel(fn, answers.projectId, answers.functionRegion, runtimeFor(answers.pythonVersion)));
  const index: IndexLayout = answers.index;
  const virtualRepository = derivedRepositoryId(answers.repository, 'index');
  const indexRepository = index === 'virtual' ? virtualRepository : answers.repository;
  const imagesRepository = derivedRepositoryId(answers.repository, 'functions');
  const minor = (v: string) => Number(v.split('.')[1]);
  const oldest = [answers.pythonVersion, CLOUD_SDK_PYTHON, ...fns.map((fn) => `3.${fn.runtime.replace(/^python3/, '')}`)]
    .reduce((a, b) => (minor(b) < minor(a) ? b : a));
  const model: Omit<Model, 'triggerFiles' | 'grants' | 'identities'> = {
    ...answers,
    index,
    virtualIndex: index === 'virtual',
    remoteRepository: derivedRepositoryId(answers.repository, 'pypi'),
    virtualRepository,
    indexRepository,
    imagesRepository,
    imagesRepositoryResource: `projects/${answers.projectId}/locations/${answers.functionRegion}/repositories/${imagesRepository}`,
    indexUrlSubstitution: 'https://${_REGION}-python.pkg.dev/${PROJECT_ID}/${_INDEX_REPO}/',
    indexUrl: `https://${answers.region}-python.pkg.dev/${answers.projectId}/${indexRepository}/`,
    cloudSdkImage: CLOUD_SDK_IMAGE,
    functionsFrameworkVersion: FUNCTIONS_FRAMEWORK_VERSION,
    ruffVersion: RUFF_VERSION,
    ruffTarget: `py${oldest.replace('.', '')}`,
    oldestPython: oldest,
    firstPartyModules: [importName(answers.packageName), 'main', 'release_tools'],
    sourceDateEpoch: SOURCE_DATE_EPOCH,
    renovate: renovateSettings(),
    pythonImage: pythonImageFor(answers.pythonVersion),
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
    prAccountName: PR_ACCOUNT_NAME,
    prServiceAccount: `${PR_ACCOUNT_NAME}@${answers.projectId}.iam.gserviceaccount.com`,
    prServiceAccountResource: `projects/${answers.projectId}/serviceAccounts/${PR_ACCOUNT_NAME}@${answers.projectId}.iam.gserviceaccount.com`,
    readerAccountName: READER_ACCOUNT_NAME,
    readerServiceAccount: `${READER_ACCOUNT_NAME}@${answers.projectId}.iam.gserviceaccount.com`,
    deployerRoleId: DEPLOYER_ROLE,
    multiRegion: isMultiRegion(answers.region),
    secondGen: answers.triggers === 'connection',
    buildRegion: answers.triggers === 'connection' ? answers.functionRegion : 'global',
    gitHostName: answers.gitHost === 'gitlab' ? 'GitLab' : 'GitHub',
    repositoryWebUrl: `https://${answers.gitHost}.com/${answers.githubOwner}/${answers.githubRepo}`,
    connectionResource: `projects/${answers.projectId}/locations/${answers.functionRegion}/connections/${answers.connection}`,
    repositoryLinkId: answers.githubRepo,
    repositoryLinkResource: `projects/${answers.projectId}/locations/${answers.functionRegion}/connections/${answers.connection}/repositories/${answers.githubRepo}`,
    remoteUri: `https://${answers.gitHost}.com/${answers.githubOwner}/${answers.githubRepo}.git`,
    branchPattern: `^${answers.branch.replace(/[.]/g, '\\.')}$`,
    functions: fns,
    generatorVersion,
  };
  // The file table says which files are triggers; paths of triggers depend on no trigger list.
  const triggerFiles = [
    ...REPOSITORY_FILES.filter((f) => f.trigger).map((f) => f.path(model as Model)),
    ...fns.flatMap((fn) => FUNCTION_FILES.filter((f) => f.trigger).map((f) => f.path(fn))),
  ];
  const complete = { ...model, triggerFiles } as Model;
  return { ...complete, grants: iamPlan(complete), identities: identities(complete) };
}

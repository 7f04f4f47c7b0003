// Google Cloud, GitHub and Python naming rules. Each check returns null when the
// value is fine, or the rule it breaks as the end of a sentence that starts with
// the flag and the value (see answers.ts), so prompts and flags say the same thing.
import { STANDARD_LIBRARY } from './standard-library.js';

export type Check = (value: string) => string | null;

/** Artifact Registry multi-regions (Google's buildpacks credential list, Aug 2026). */
export const MULTI_REGIONS = ['asia', 'europe', 'us'] as const;

/** Artifact Registry regions; Cloud Functions runs in the same set. */
export const REGIONS = [
  'africa-south1',
  'asia-east1', 'asia-east2', 'asia-northeast1', 'asia-northeast2', 'asia-northeast3',
  'asia-south1', 'asia-south2', 'asia-southeast1', 'asia-southeast2', 'asia-southeast3',
  'australia-southeast1', 'australia-southeast2',
  'europe-central2', 'europe-north1', 'europe-north2', 'europe-southwest1',
  'europe-west1', 'europe-west2', 'europe-west3', 'europe-west4', 'europe-west5', 'europe-west6',
  'europe-west8', 'europe-west9', 'europe-west10', 'europe-west12',
  'me-central1', 'me-central2', 'me-west1',
  'northamerica-northeast1', 'northamerica-northeast2', 'northamerica-south1',
  'southamerica-east1', 'southamerica-west1',
  'us-central1', 'us-east1', 'us-east4', 'us-east5', 'us-south1',
  'us-west1', 'us-west2', 'us-west3', 'us-west4', 'us-west8',
] as const;

/** The region a prompt suggests for functions when the repository sits in a multi-region. */
export const SUGGESTED_FUNCTION_REGION: ReadonlyMap<string, string> = new Map([['us', 'us-central1'], ['europe', 'europe-west1'], ['asia', 'asia-east1']]);

/** Python versions a Cloud Functions runtime exists for; 3.10 is deprecated since 2026-10-04. */
export const PYTHON_VERSIONS = ['3.11', '3.12', '3.13', '3.14'] as const;
export const DEPRECATED_PYTHON_VERSIONS = ['3.10'] as const;

export const INDEX_LAYOUTS = ['virtual', 'private'] as const;
export type IndexLayout = (typeof INDEX_LAYOUTS)[number];

export const AUTH_MODES = ['native', 'token'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Where the repository lives. */
export const GIT_HOSTS = ['github', 'gitlab'] as const;
export type GitHost = (typeof GIT_HOSTS)[number];

/** Cloud Build repositories (2nd gen) through a connection, or 1st-gen GitHub App triggers. */
export const TRIGGER_KINDS = ['connection', 'github-app'] as const;
export type TriggerKinds = (typeof TRIGGER_KINDS)[number];

/** Python's keywords (`keyword.kwlist`), case and all: `None` is one, `none` and `Class` are names. */
const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import',
  'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while',
  'with', 'yield',
]);

export const isMultiRegion = (location: string): boolean =>
  (MULTI_REGIONS as readonly string[]).includes(location);

export const projectId: Check = (v) =>
  /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(v)
    ? null
    : 'is not a Google Cloud project id: 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen';

export const location: Check = (v) =>
  isMultiRegion(v) || (REGIONS as readonly string[]).includes(v)
    ? null
    : 'is not an Artifact Registry location; use a region such as us-east4 or europe-west1, or a multi-region: us, europe, asia';

export const functionRegion: Check = (v) =>
  (REGIONS as readonly string[]).includes(v)
    ? null
    : isMultiRegion(v)
      ? 'is a multi-region, and Cloud Functions runs in a single region such as us-central1 or europe-west1'
      : 'is not a Cloud Functions region; use one such as us-central1, us-east4 or europe-west1';

export const repositoryId: Check = (v) =>
  /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v)
    ? null
    : 'is not an Artifact Registry repository id: up to 63 lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit';

export const githubOwner: Check = (v) =>
  /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(v)
    ? null
    : 'is not a GitHub user or organisation: up to 39 letters, digits or single hyphens, not starting or ending with a hyphen';

/** A GitLab namespace: a user or a group, with its subgroups after slashes (GitLab's path rules). */
export const gitlabNamespace: Check = (v) =>
  v.length <= 255 && v.split('/').every((part) => /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$/.test(part) && !/\.(git|atom)$/.test(part))
    ? null
    : 'is not a GitLab group or user: letters, digits, "_", "-" and ".", subgroups after "/", not starting with "-" or "." and not ending with ".", ".git" or ".atom"';

/**
 * The owner on either host, checked alone: a path with subgroups by GitLab's rule, a name by
 * GitHub's unless GitLab's takes it. The host's own rule follows once the host is known (answers.ts).
 */
export const repositoryOwner: Check = (v) =>
  v.includes('/') ? gitlabNamespace(v) : githubOwner(v) === null || gitlabNamespace(v) === null ? null : githubOwner(v);

export const gitHost: Check = (v) =>
  (GIT_HOSTS as readonly string[]).includes(v) ? null : 'is not a git host; use github or gitlab (gitlab.com)';

export const triggerKinds: Check = (v) =>
  (TRIGGER_KINDS as readonly string[]).includes(v)
    ? null
    : 'is not a kind of trigger; use connection (Cloud Build repositories, 2nd gen: regional builds, GitHub or GitLab) or github-app (1st-gen GitHub App triggers, built in the global region)';

/** A Cloud Build connection id: this generator's subset of what the API allows (letters, digits, - _ .). */
export const connectionName: Check = (v) =>
  /^[A-Za-z](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(v)
    ? null
    : 'is not a Cloud Build connection name this generator accepts: up to 63 letters, digits, "-", "_" or ".", starting with a letter and ending with a letter or digit';

export const githubRepo: Check = (v) =>
  /^[A-Za-z0-9._-]{1,100}$/.test(v) && v !== '.' && v !== '..' && !v.toLowerCase().endsWith('.git')
    ? null
    : 'is not a GitHub repository name: up to 100 letters, digits, hyphens, underscores or dots, not "." or ".." and not ending in .git';

export const packageName: Check = (v) => {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(v)) {
    return 'is not a Python distribution name (PEP 508): letters, digits, ".", "_" or "-", starting and ending with a letter or digit';
  }
  const module = importName(v);
  if (!/^[a-z_][a-z0-9_]*$/.test(module)) {
    return `gives the import name "${module}", which is not a Python identifier; start the name with a letter`;
  }
  if (PYTHON_KEYWORDS.has(module)) return `gives the import name "${module}", which is a Python keyword and cannot be imported; choose another name`;
  return null;
};

/**
 * A warning, not a rule: an import name that Python's standard library has already. The
 * standard library comes before site-packages on sys.path, so `import NAME` finds its module.
 */
export const shadowedByStandardLibrary = (module: string): boolean => STANDARD_LIBRARY.has(module);

/** Cloud Functions 2nd gen become Cloud Run services; this subset is valid for both. */
export const functionName: Check = (v) =>
  /^[a-z](?:[a-z0-9-]{0,59}[a-z0-9])?$/.test(v)
    ? null
    : 'is not a function name: up to 61 lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit (its trigger is named fn-NAME, and trigger names stop at 64)';

export const pythonVersion: Check = (v) =>
  (PYTHON_VERSIONS as readonly string[]).includes(v) || (DEPRECATED_PYTHON_VERSIONS as readonly string[]).includes(v)
    ? null
    : /^3\.[0-9]$/.test(v)
      ? 'has no Cloud Functions runtime any more (python39 and older are decommissioned); use 3.11, 3.12, 3.13 or 3.14'
      : 'is not a supported Python version; use 3.11, 3.12, 3.13 or 3.14';

export const runtime: Check = (v) => {
  const m = /^python3(\d{1,2})$/.exec(v);
  return m && pythonVersion(`3.${m[1]}`) === null
    ? null
    : 'is not a supported Cloud Functions Python runtime; use python311, python312, python313 or python314';
};

export const index: Check = (v) =>
  (INDEX_LAYOUTS as readonly string[]).includes(v)
    ? null
    : 'is not an index layout; use virtual (pip reads one virtual repository: the private one first, PyPI behind it) or private (the private repository beside PyPI with --extra-index-url, open to dependency confusion)';

export const auth: Check = (v) =>
  (AUTH_MODES as readonly string[]).includes(v)
    ? null
    : 'is not an auth mode; use native (the build service account reads the repository) or token (an access token in requirements.txt)';

export const entryPoint: Check = (v) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(v)) return 'is not a Python function name: letters, digits and underscores, not starting with a digit';
  return PYTHON_KEYWORDS.has(v) ? 'is a Python keyword, which cannot name a function; choose another name' : null;
};

/** 2nd gen memory: a number with k, M, G, Ki, Mi or Gi, from 128Mi to 32Gi. */
export const memory: Check = (v) => {
  const m = /^(\d+)(k|M|G|Ki|Mi|Gi)$/.exec(v);
  const unit: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  if (!m) return 'is not a memory size: a whole number with k, M, G, Ki, Mi or Gi, such as 256Mi or 1Gi';
  const bytes = Number(m[1]) * unit[m[2]];
  return bytes >= 128 * 1024 ** 2 && bytes <= 32 * 1024 ** 3
    ? null
    : 'is outside what a 2nd gen function can have: 128Mi to 32Gi';
};

/** 2nd gen timeout for HTTP functions: 1 to 3600 seconds, written as Ns. */
export const timeout: Check = (v) => {
  const m = /^(\d+)s$/.exec(v);
  if (!m) return 'is not a timeout: a whole number of seconds with an s, such as 60s';
  const s = Number(m[1]);
  return s >= 1 && s <= 3600 ? null : 'is outside what a 2nd gen HTTP function allows: 1s to 3600s';
};

/** `http`, `topic:TOPIC` (Pub/Sub topic id) or `bucket:BUCKET` (Cloud Storage bucket name). */
export const trigger: Check = (v) => {
  if (v === 'http') return null;
  const m = /^(topic|bucket):(.*)$/.exec(v);
  if (m?.[1] === 'topic') {
    return /^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/.test(m[2]) && !m[2].startsWith('goog')
      ? null
      : 'has no valid Pub/Sub topic id after topic: (3 to 255 letters, digits or - _ . ~ + %, starting with a letter, not with goog)';
  }
  if (m?.[1] === 'bucket') {
    return /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(m[2]) && !m[2].startsWith('goog')
      ? null
      : 'has no valid Cloud Storage bucket name after bucket: (3 to 63 lowercase letters, digits, - _ or ., starting and ending with a letter or digit)';
  }
  return 'is not a trigger; use http, topic:TOPIC or bucket:BUCKET';
};

export const serviceAccountEmail: Check = (v) =>
  /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]+\.gserviceaccount\.com$|^[0-9]+-compute@developer\.gserviceaccount\.com$/.test(v)
    ? null
    : 'is not a service account email such as runner@PROJECT.iam.gserviceaccount.com';

/** Event-driven 2nd gen functions may run at most 540 s; HTTP ones 3600 s. */
export const EVENT_TIMEOUT_LIMIT = 540;

/** A subset of `git check-ref-format --branch`: its characters, and git's rules on where they may stand. */
export const branch: Check = (v) =>
  /^[A-Za-z0-9._/-]{1,200}$/.test(v) &&
  !v.startsWith('-') &&
  !v.endsWith('.') &&
  !v.includes('..') &&
  v.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'))
    ? null
    : 'is not a git branch name this generator accepts: letters, digits, ".", "_", "-" and "/", not starting with "-", with no empty part, no part starting with "." or ending in ".lock", no ".." and no "." at the end';

/** PEP 503 normalised name, as the simple API and Artifact Registry spell it. */
export const normalizedName = (name: string): string => name.replace(/[-_.]+/g, '-').toLowerCase();

/** The module name users import. */
export const importName = (name: string): string => name.replace(/[-.]+/g, '_').toLowerCase();

export const runtimeFor = (version: string): string => `python${version.replace('.', '')}`;

/** The Python version of a runtime such as python312, as a number of minor versions (312 -> 12). */
const minorOf = (runtimeOrVersion: string): number => Number(/3\.?(\d+)$/.exec(runtimeOrVersion)?.[1] ?? NaN);

/**
 * Null when a function on `runtime` can install the package (requires-python >= the
 * repository's Python version), else the rule it breaks, as the end of a sentence.
 */
export const runtimeForPython = (runtime: string, pythonVersion: string): string | null =>
  minorOf(runtime) < minorOf(pythonVersion)
    ? `is older than the package's Python ${pythonVersion} (requires-python >=${pythonVersion}), which pip would refuse to install on it; use ${runtimeFor(pythonVersion)} or newer, or leave the runtime out to follow the Python version`
    : null;

/**
 * Order by UTF-16 code units: stable across machines and locales, and free of the ICU
 * start-up (some 10 ms of every run) that localeCompare costs.
 */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

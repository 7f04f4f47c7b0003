// Every option of both generators, declared once: its flag, prompt, default and rule.
// The Yeoman generators and the `arpypi` bin both read this table.
import * as rules from './rules.js';
import type { Check } from './rules.js';

/** What a default may look at: stored answers so far and the folder being generated. */
export interface DefaultContext {
  values: Record<string, unknown>;
  folderName: string;
  gcloudProject: () => string | undefined;
}

export interface OptionSpec {
  /** camelCase key in `.yo-rc.json` and in Yeoman's options. */
  key: string;
  /** kebab-case flag, without the dashes. */
  flag: string;
  type: 'string' | 'boolean';
  description: string;
  /** Prompt text; options without one are never asked for. */
  message?: string;
  choices?: readonly string[];
  /** One line per choice, shown beside it when asked. */
  explain?: Readonly<Record<string, string>>;
  /** What a prompt suggests when there is no default (never taken under --yes). */
  suggest?: (ctx: DefaultContext) => string | boolean | undefined;
  check?: Check;
  default?: (ctx: DefaultContext) => string | boolean | undefined;
  /** May stay empty (no default, not asked under --yes). */
  optional?: boolean;
  /** False when the other answers make this one moot: it is not asked (its default is kept). */
  applies?: (values: Record<string, unknown>) => boolean;
}

const pythonChoices = [...rules.PYTHON_VERSIONS] as const;

export const APP_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'projectId', flag: 'project-id', type: 'string',
    description: 'Google Cloud project id (default: gcloud config get-value project)',
    message: 'Google Cloud project id', check: rules.projectId,
    default: (ctx) => {
      const project = ctx.gcloudProject();
      return project && rules.projectId(project) === null ? project : undefined;
    },
  },
  {
    key: 'region', flag: 'region', type: 'string',
    description: 'Artifact Registry location: a region (us-east4) or multi-region (us, europe, asia)',
    message: 'Artifact Registry location (region or multi-region)', check: rules.location,
    default: () => 'us-central1',
  },
  {
    key: 'repository', flag: 'repository', type: 'string',
    description: 'Artifact Registry repository id',
    message: 'Artifact Registry repository id', check: rules.repositoryId,
    default: () => 'python-packages',
  },
  {
    key: 'gitHost', flag: 'git-host', type: 'string',
    description: 'Where the repository lives: github or gitlab (gitlab.com; needs --triggers connection)',
    message: 'Git host', choices: rules.GIT_HOSTS, check: rules.gitHost,
    explain: { github: 'github.com', gitlab: 'gitlab.com, through a Cloud Build connection' },
    default: () => 'github',
  },
  {
    key: 'githubOwner', flag: 'github-owner', type: 'string',
    description: 'GitHub user or organisation that owns the repository (with --git-host gitlab: the GitLab group or user)',
    message: 'GitHub owner (user or organisation)', check: rules.repositoryOwner,
  },
  {
    key: 'githubRepo', flag: 'github-repo', type: 'string',
    description: 'GitHub repository name (default: the folder name)',
    message: 'GitHub repository name', check: rules.githubRepo,
    default: (ctx) => (rules.githubRepo(ctx.folderName) === null ? ctx.folderName : undefined),
  },
  {
    key: 'branch', flag: 'branch', type: 'string',
    description: 'Branch whose pushes release and deploy (default: main)',
    message: 'Branch that releases and deploys', check: rules.branch,
    default: () => 'main',
  },
  {
    key: 'triggers', flag: 'triggers', type: 'string',
    description: 'How pushes reach Cloud Build: connection (Cloud Build repositories, 2nd gen; builds in the functions region) or github-app (1st-gen GitHub App triggers, global)',
    message: 'Cloud Build triggers', choices: rules.TRIGGER_KINDS, check: rules.triggerKinds,
    explain: {
      connection: 'Cloud Build repositories (2nd gen): a connection to GitHub or GitLab, builds in the functions region (recommended)',
      'github-app': '1st-gen GitHub App triggers: GitHub only, builds in the global region',
    },
    default: () => 'connection',
  },
  {
    key: 'connection', flag: 'connection', type: 'string',
    description: 'The Cloud Build connection to use or create (--triggers connection; default: arpypi-github, or arpypi-gitlab)',
    message: 'Cloud Build connection (made by scripts/setup-gcp.sh when missing)', check: rules.connectionName,
    default: (ctx) => `arpypi-${typeof ctx.values.gitHost === 'string' ? ctx.values.gitHost : 'github'}`,
    applies: (values) => values.triggers !== 'github-app',
  },
  {
    key: 'packageName', flag: 'package-name', type: 'string',
    description: 'Python distribution name of the private package (PEP 508)',
    message: 'Python package (distribution) name', check: rules.packageName,
  },
  {
    key: 'pythonVersion', flag: 'python-version', type: 'string',
    description: 'Python version: 3.11, 3.12, 3.13 or 3.14 (3.10 is deprecated)',
    message: 'Python version', choices: pythonChoices, check: rules.pythonVersion,
    default: () => '3.12',
  },
  {
    key: 'functionRegion', flag: 'function-region', type: 'string',
    description: 'Cloud Functions region (default: --region; required when --region is a multi-region)',
    message: 'Cloud Functions region', check: rules.functionRegion,
    default: (ctx) => {
      const region = ctx.values.region;
      return typeof region === 'string' && !rules.isMultiRegion(region) ? region : undefined;
    },
    // A multi-region has no single region to follow: the prompt offers its largest one.
    suggest: (ctx) => rules.SUGGESTED_FUNCTION_REGION.get(ctx.values.region as string),
  },
  {
    key: 'auth', flag: 'auth', type: 'string',
    description: 'How function builds reach the repository: native (build service account) or token (access token in requirements.txt)',
    message: 'How function builds authenticate to Artifact Registry', choices: rules.AUTH_MODES, check: rules.auth,
    explain: {
      native: 'the function build\'s own service account reads the repository (recommended)',
      token: 'a short-lived access token is written into requirements.txt at deploy time',
    },
    default: () => 'native',
  },
  {
    key: 'index', flag: 'index', type: 'string',
    description: 'What pip reads: virtual (one index, the private repository first and PyPI behind it) or private (the private repository beside PyPI; see the generated README\'s warning)',
    message: 'Python index layout', choices: rules.INDEX_LAYOUTS, check: rules.index,
    explain: {
      virtual: 'one virtual repository: your private packages first, PyPI behind them (recommended)',
      private: 'your private repository as an extra index beside PyPI: a public package of the same name can win',
    },
    default: () => 'virtual',
  },
  {
    key: 'function', flag: 'function', type: 'string', optional: true,
    description: 'Name of a first function to add now (optional)',
    check: rules.functionName,
  },
];

export const FUNCTION_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'trigger', flag: 'trigger', type: 'string',
    description: 'What calls the function: http, topic:TOPIC (Pub/Sub) or bucket:BUCKET (Cloud Storage); default http',
    message: 'Trigger: http, topic:TOPIC or bucket:BUCKET', check: rules.trigger, default: () => 'http',
  },
  {
    key: 'runtime', flag: 'runtime', type: 'string',
    description: 'Cloud Functions runtime (default: the repository\'s Python version, e.g. python312)',
    message: 'Python runtime', check: rules.runtime,
    default: (ctx) => (typeof ctx.values.pythonVersion === 'string' ? rules.runtimeFor(ctx.values.pythonVersion) : undefined),
  },
  {
    key: 'memory', flag: 'memory', type: 'string',
    description: 'Memory of each instance, 128Mi to 32Gi (default: 256Mi)',
    message: 'Memory of each instance (128Mi to 32Gi)', check: rules.memory, default: () => '256Mi',
  },
  {
    key: 'timeout', flag: 'timeout', type: 'string',
    description: 'Timeout, 1s to 3600s for HTTP and to 540s for topic and bucket functions (default: 60s)',
    message: 'Timeout in seconds, such as 60s', check: rules.timeout, default: () => '60s',
  },
  {
    key: 'entryPoint', flag: 'entry-point', type: 'string',
    description: 'Python function in main.py that serves requests (default: handler)',
    message: 'Entry point (the Python function in main.py)', check: rules.entryPoint, default: () => 'handler',
  },
  {
    key: 'serviceAccount', flag: 'service-account', type: 'string', optional: true,
    description: 'Runtime identity (default: a dedicated account fn-NAME that scripts/setup-gcp.sh creates)',
    check: rules.serviceAccountEmail,
  },
  {
    key: 'allowUnauthenticated', flag: 'allow-unauthenticated', type: 'boolean',
    description: 'Let anyone on the internet call the function (default: callers need IAM permission)',
    message: 'Public: may anyone on the internet call it (no = callers need IAM permission)?',
    default: () => false,
  },
];

/** The function's name: the function command's one positional argument. */
export const FUNCTION_NAME: OptionSpec = {
  key: 'name', flag: 'NAME', type: 'string', description: 'Function name', message: 'Function name (lowercase letters, digits and hyphens)', check: rules.functionName,
};

/** Flags that steer a run and are never stored; `remove` only for the function command. */
export const RUN_OPTIONS: readonly OptionSpec[] = [
  { key: 'yes', flag: 'yes', type: 'boolean', description: 'Never prompt: take flags, .yo-rc.json and defaults; fail on anything missing' },
  { key: 'force', flag: 'force', type: 'boolean', description: 'Take the render for every wiring file, over your edits (never for your own code, nor a file this generator did not write)' },
  { key: 'dryRun', flag: 'dry-run', type: 'boolean', description: 'Print what would be created, changed, merged or removed, and write nothing' },
  { key: 'help', flag: 'help', type: 'boolean', description: 'Print this help' },
  { key: 'version', flag: 'version', type: 'boolean', description: 'Print the version of generator-arpypi' },
];

export const REMOVE_OPTION: OptionSpec = {
  key: 'remove', flag: 'remove', type: 'boolean', description: 'Remove the function: its generated files, its trigger and its entry (files you edited are kept)',
};

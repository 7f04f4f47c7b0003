// Generates repositories with the real Yeoman generators (through yeoman-test)
// for the answer combinations the tests cover.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helpers from 'yeoman-test';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const APP = path.join(ROOT, 'dist/generators/app/index.js');
export const FUNCTION = path.join(ROOT, 'dist/generators/function/index.js');

export interface Combo {
  name: string;
  options: Record<string, string | boolean>;
  /** Functions added afterwards with `yo arpypi:function`. */
  more: { name: string; options?: Record<string, string | boolean> }[];
}

export const COMBOS: readonly Combo[] = [
  {
    name: 'regional, native',
    options: {
      projectId: 'acme-prod-1', region: 'europe-west1', repository: 'py-internal', githubOwner: 'acme',
      githubRepo: 'mono', packageName: 'Acme.Utils', pythonVersion: '3.11', auth: 'native', function: 'hello',
    },
    more: [
      { name: 'billing-report', options: { memory: '512Mi', timeout: '120s', entryPoint: 'report' } },
      { name: 'orders-sync', options: { trigger: 'topic:orders', runtime: 'python313' } },
    ],
  },
  {
    name: 'multi-region, token',
    options: {
      projectId: 'widgets-dev', region: 'us', functionRegion: 'us-east4', repository: 'pkgs', githubOwner: 'widgets-inc',
      githubRepo: 'platform', packageName: 'widget_core', pythonVersion: '3.11', auth: 'token', function: 'api', triggers: 'github-app',
    },
    more: [{ name: 'ingest', options: { allowUnauthenticated: true, trigger: 'bucket:widgets-uploads' } }],
  },
  {
    name: 'regional, token',
    options: {
      projectId: 'tokyo-data-42', region: 'asia-northeast1', repository: 'td-wheels', githubOwner: 'tokyo-data/platform', gitHost: 'gitlab',
      githubRepo: 'functions', packageName: 'td-common', pythonVersion: '3.13', auth: 'token', function: 'sync',
    },
    more: [],
  },
  {
    name: 'multi-region, native',
    options: {
      projectId: 'euro-shop', region: 'europe', functionRegion: 'europe-west4', repository: 'libs', githubOwner: 'euroshop',
      githubRepo: 'backend', packageName: 'shoplib', pythonVersion: '3.14', auth: 'native', branch: 'release/v1',
    },
    more: [
      { name: 'orders' },
      { name: 'refunds', options: { trigger: 'topic:refunds', serviceAccount: 'refunds-runner@euro-shop.iam.gserviceaccount.com' } },
    ],
  },
];

export const tempDir = (prefix: string): string => mkdtempSync(path.join(os.tmpdir(), `arpypi-${prefix}-`));

// yeoman-test forces every write by default; users do not, and neither do these runs.
const AS_USERS_RUN = { force: false };

export async function runApp(dir: string, options: Record<string, unknown>): Promise<void> {
  await helpers.run(APP, {}, AS_USERS_RUN).cd(dir).withOptions({ yes: true, ...AS_USERS_RUN, ...options });
}

export async function runFunction(dir: string, name: string, options: Record<string, unknown> = {}): Promise<void> {
  await helpers.run(FUNCTION, {}, AS_USERS_RUN).cd(dir).withArguments([name]).withOptions({ yes: true, ...AS_USERS_RUN, ...options });
}

/** A new repository for the combination: `yo arpypi`, then each `yo arpypi:function`. */
export async function generate(combo: Combo): Promise<string> {
  const dir = tempDir(combo.name.replace(/\W+/g, '-'));
  await runApp(dir, combo.options);
  for (const fn of combo.more) await runFunction(dir, fn.name, fn.options);
  return dir;
}

export function functionNames(combo: Combo): string[] {
  const first = combo.options.function;
  return [...(typeof first === 'string' ? [first] : []), ...combo.more.map((f) => f.name)].sort();
}

/** Every file below dir, relative, sorted; `.git` left out. */
export function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .filter((name) => name !== '.git')
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
    })
    .sort();
}

export const read = (dir: string, file: string): string => readFileSync(path.join(dir, file), 'utf8');

/** The build configs of a generated repository: each pipeline's cloudbuild.yaml and the pull-request one. */
export const buildConfigs = (dir: string): string[] => listFiles(dir).filter((f) => /(^|\/)cloudbuild(-pr)?\.yaml$/.test(f));

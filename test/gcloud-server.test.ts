// The tests' gcloud (test/support/gcloud-server: Google's wrapper handing each call to a fork
// of a server already past gcloud's imports) says and does what the installed gcloud says and
// does: the same output, errors and exit status, call by call, on the same stand-in.
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/generate.js';
import { gcloudEnvFor, startStandin, type Standin } from './support/standins.js';
import { gcloudRoot, ok, run, which, type RunResult } from './support/tools.js';

const plain = process.env.ARPYPI_TEST_GCLOUD === 'plain';

describe("the tests' gcloud is the installed gcloud", () => {
  let google: Standin;
  let env: NodeJS.ProcessEnv;
  let installed: string;
  let cwd: string;

  beforeAll(async () => {
    google = await startStandin('google_apis.py');
    env = gcloudEnvFor(google, 'p');
    // The installed wrapper itself, by its real path: its own folder, not the tests' copy.
    installed = path.join(path.dirname(realpathSync(path.join(gcloudRoot(), 'lib'))), 'bin/gcloud');
    cwd = tempDir('gcloud-server');
    ok(installed, ['services', 'enable', 'artifactregistry.googleapis.com', 'secretmanager.googleapis.com'], { env, cwd });
    ok(installed, ['artifacts', 'repositories', 'create', 'pkgs', '--location=europe-west1', '--repository-format=python'], { env, cwd });
  });
  afterAll(async () => {
    await google?.stop();
  });

  const both = (args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): [RunResult, RunResult] => {
    const opts = { env: options.env ?? env, cwd: options.cwd ?? cwd, input: options.input };
    return [run('gcloud', args, opts), run(installed, args, opts)];
  };

  it(plain ? 'ARPYPI_TEST_GCLOUD=plain: gcloud on PATH is the installed one' : 'gcloud on PATH hands its calls to the fork server', () => {
    const wrapper = readFileSync(which('gcloud'), 'utf8');
    expect(wrapper.includes("The tests' change")).toBe(!plain);
  });

  it.each([
    ['a listing, as JSON', ['artifacts', 'repositories', 'list', '--location=europe-west1', '--format=json']],
    ['a not-found error (exit 1)', ['artifacts', 'repositories', 'describe', 'nope', '--location=europe-west1']],
    ['an unknown command (exit 2, the usage)', ['artifacts', 'nosuch']],
    ['a describe, in the default format', ['artifacts', 'repositories', 'describe', 'pkgs', '--location=europe-west1']],
  ])('%s: the same output, errors and status', (_, args) => {
    const [served, own] = both(args);
    expect(served).toEqual(own);
  });

  it('reads the properties of each call: the environment, its own configuration folder, a flags file in its working directory', () => {
    const config = tempDir('gcloud-config');
    ok(installed, ['config', 'set', 'core/account', 'someone@example.com'], { env: { ...env, CLOUDSDK_CONFIG: config } });
    const [fromFolder, fromFolderOwn] = both(['config', 'list', '--format=json'], { env: { ...env, CLOUDSDK_CONFIG: config, CLOUDSDK_CORE_PROJECT: 'other' } });
    expect(fromFolder).toEqual(fromFolderOwn);
    expect(JSON.parse(fromFolder.stdout)).toMatchObject({ core: { account: 'someone@example.com', project: 'other' } });
    const here = tempDir('gcloud-cwd');
    writeFileSync(path.join(here, 'flags.yaml'), '--project: from-flags-file\n');
    const [flags, flagsOwn] = both(['config', 'get', 'project', '--flags-file=flags.yaml'], { cwd: here });
    expect(flags).toEqual(flagsOwn);
    expect(flags.stdout.trim()).toBe('from-flags-file');
  });

  it('reads standard input and writes where the caller asked', () => {
    const served = run('gcloud', ['secrets', 'create', 'from-stdin', '--data-file=-'], { env, cwd, input: 'a secret\n' });
    expect(served.status, served.stderr).toBe(0);
    const read = ok(installed, ['secrets', 'versions', 'access', 'latest', '--secret=from-stdin'], { env, cwd });
    expect(read.stdout).toBe('a secret\n');
    const out = path.join(tempDir('gcloud-out'), 'd');
    mkdirSync(out);
    const toFile = ok('bash', ['-c', 'gcloud artifacts repositories list --location=europe-west1 --format="value(name)" > listed 2> said; echo $?'], { env, cwd: out });
    expect(toFile.stdout.trim()).toBe('0');
    expect(readFileSync(path.join(out, 'listed'), 'utf8')).toContain('pkgs');
  });
});

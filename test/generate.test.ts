// Layer 1 and 2: the files each answer combination produces, and what they say.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMBOS, functionNames, generate, listFiles, read, ROOT, runApp, runFunction, tempDir } from './support/generate.js';
import type { Combo } from './support/generate.js';
import { importName } from '../dist/generators/core/rules.js';

function expectedFiles(combo: Combo): string[] {
  const mod = importName(String(combo.options.packageName));
  const perFunction = (name: string) => [
    `functions/${name}/.gcloudignore`, `functions/${name}/.gitignore`, `functions/${name}/cloudbuild.yaml`,
    `functions/${name}/main.py`, `functions/${name}/requirements.in`, `functions/${name}/test_main.py`,
    `triggers/fn-${name}.yaml`,
  ];
  return [
    '.arpypi/last-render.json.gz', '.gitignore', '.pre-commit-config.yaml', '.python-version', '.yo-rc.json', 'README.md', 'cloudbuild-pr.yaml',
    'conftest.py', 'constraints.txt', 'noxfile.py', 'package/CHANGELOG.md', 'package/README.md', 'package/cloudbuild.yaml',
    'package/pyproject.toml', `package/src/${mod}/__init__.py`, `package/src/${mod}/py.typed`, `package/tests/test_${mod}.py`,
    'pyproject.toml', 'renovate.json',
    'scripts/check-version-unpublished.py', 'scripts/prepare-requirements.sh', 'scripts/release_tools.py', 'scripts/setup-gcp.sh',
    'scripts/test_release_tools.py', 'scripts/wait-for-release.py',
    'triggers/package.yaml', 'triggers/pull-request.yaml',
    ...functionNames(combo).flatMap(perFunction),
  ].sort();
}

describe.each(COMBOS)('$name', (combo) => {
  let dir: string;
  beforeAll(async () => {
    dir = await generate(combo);
  });

  it('writes exactly the expected files', () => {
    expect(listFiles(dir)).toEqual(expectedFiles(combo));
  });

  it('stores every answer and each function in .yo-rc.json', () => {
    const stored = JSON.parse(read(dir, '.yo-rc.json'))['generator-arpypi'];
    for (const [key, value] of Object.entries(combo.options)) {
      if (key !== 'function') expect(stored[key], key).toBe(value);
    }
    expect(Object.keys(stored.functions).sort()).toEqual(functionNames(combo));
    expect(stored.version).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('wires region, project and repository into both pipelines and their triggers', () => {
    const { projectId, region, repository } = combo.options;
    const functionRegion = combo.options.functionRegion ?? region;
    const pkg = parse(read(dir, 'package/cloudbuild.yaml'));
    expect(pkg.substitutions).toMatchObject({ _REGION: region, _REPO: repository });
    const trigger = parse(read(dir, 'triggers/package.yaml'));
    expect(trigger.substitutions).toEqual({ _REGION: region, _REPO: repository });
    expect(trigger.serviceAccount).toBe(`projects/${projectId}/serviceAccounts/arpypi-build@${projectId}.iam.gserviceaccount.com`);
    for (const name of functionNames(combo)) {
      const config = parse(read(dir, `functions/${name}/cloudbuild.yaml`));
      expect(config.substitutions).toMatchObject({ _REGION: region, _REPO: repository, _FUNCTION_REGION: functionRegion });
      const deploy = config.steps.find((s: { id: string }) => s.id === 'deploy');
      expect(deploy.args.slice(0, 5)).toEqual(['functions', 'deploy', name, '--gen2', '--region=$_FUNCTION_REGION']);
      expect(deploy.args).toContain('--source=.');
      const fnTrigger = parse(read(dir, `triggers/fn-${name}.yaml`));
      expect(fnTrigger.filename).toBe(`functions/${name}/cloudbuild.yaml`);
      // A release of the package redeploys every function that pins it.
      expect(fnTrigger.includedFiles).toEqual([`functions/${name}/**`, 'scripts/prepare-requirements.sh', 'scripts/wait-for-release.py', 'package/src/**', 'package/pyproject.toml']);
    }
  });

  it('passes the auth mode to the requirements script and keeps the token out of git', () => {
    for (const name of functionNames(combo)) {
      const prepare = parse(read(dir, `functions/${name}/cloudbuild.yaml`)).steps[0];
      expect(prepare.env).toContain(`AUTH=${combo.options.auth}`);
      expect(read(dir, `functions/${name}/.gitignore`).split('\n')).toContain('requirements.txt');
      expect(read(dir, `functions/${name}/.gcloudignore`).split('\n')).toContain('!requirements.txt');
    }
  });

  it('applies each function\'s own options', () => {
    for (const fn of combo.more) {
      const args: string[] = parse(read(dir, `functions/${fn.name}/cloudbuild.yaml`)).steps.find((s: { id: string }) => s.id === 'deploy').args;
      const o = fn.options ?? {};
      expect(args).toContain(`--memory=${o.memory ?? '256Mi'}`);
      expect(args).toContain(`--timeout=${o.timeout ?? '60s'}`);
      expect(args).toContain(`--entry-point=${o.entryPoint ?? 'handler'}`);
      // A private function deploys with neither flag, so gcloud touches no invoker policy.
      expect(args.filter((a) => a.endsWith('allow-unauthenticated'))).toEqual(o.allowUnauthenticated ? ['--allow-unauthenticated'] : []);
      expect(args).toContain(`--runtime=${o.runtime ?? `python${String(combo.options.pythonVersion).replace('.', '')}`}`);
      const trigger = String(o.trigger ?? 'http');
      const account = String(o.serviceAccount ?? `fn-${fn.name}@${combo.options.projectId}.iam.gserviceaccount.com`);
      expect(args).toContain(trigger === 'http' ? '--trigger-http' : `--trigger-${trigger.replace(':', '=')}`);
      expect(args).toContain(`--service-account=${account}`);
      // An event function's events arrive as its own trigger account, not as its runtime account.
      const eventAccount = `ev-${fn.name}@${combo.options.projectId}.iam.gserviceaccount.com`;
      if (trigger !== 'http') expect(args).toContain(`--trigger-service-account=${eventAccount}`);
      expect(args.filter((a) => a.startsWith('--trigger-') && a !== '--trigger-service-account=' + eventAccount)).toHaveLength(1);
      // The decorator tells functions-framework how to serve the entry point (HTTP or CloudEvent).
      const [decorator, parameter] = (o.trigger ?? 'http') === 'http' ? ['http', 'request: flask.Request'] : ['cloud_event', 'cloud_event: CloudEvent'];
      expect(read(dir, `functions/${fn.name}/main.py`)).toContain(`@functions_framework.${decorator}\ndef ${o.entryPoint ?? 'handler'}(${parameter}) -> `);
    }
  });

  it('runs every push trigger as the build account and pull requests as their own, and every build logs to Cloud Logging', () => {
    for (const file of listFiles(dir).filter((f) => f.startsWith('triggers/'))) {
      const trigger = parse(read(dir, file));
      const account = file === 'triggers/pull-request.yaml' ? 'arpypi-pr' : 'arpypi-build';
      expect(trigger.serviceAccount, file).toMatch(new RegExp(`^projects/[a-z0-9-]+/serviceAccounts/${account}@`));
      expect(parse(read(dir, trigger.filename)).options?.logging, trigger.filename).toBe('CLOUD_LOGGING_ONLY');
    }
  });

  it('checks pull requests with every test and no publishing step', () => {
    const pr = parse(read(dir, 'cloudbuild-pr.yaml'));
    expect(pr.steps.map((s: { id: string }) => s.id)).toEqual([
      'install-tools', 'build', 'check-dist', 'check-version-unpublished', 'lint', 'format', 'types', 'test-package', 'test-scripts',
      ...functionNames(combo).flatMap((n) => [`requirements-${n}`, `install-${n}`, `install-package-${n}`, `types-${n}`, `test-${n}`]),
    ]);
    // twine checks the build and nothing else; no step uploads or deploys.
    expect(JSON.stringify(pr.steps)).not.toMatch(/upload|deploy/);
    expect(pr.steps.filter((s: { args: string[] }) => s.args[1] === 'twine').map((s: { args: string[] }) => s.args)).toEqual([['-m', 'twine', 'check', '--strict', 'dist/*']]);
    const prTrigger = parse(read(dir, 'triggers/pull-request.yaml'));
    expect((prTrigger.repositoryEventConfig ?? prTrigger.github).pullRequest.branch).toBe(`^${String(combo.options.branch ?? 'main').replace('.', '\\.')}$`);
  });

  it('checks code for the oldest Python that runs it: the repository\'s, each function\'s runtime, the deploy image\'s 3.13', () => {
    const runtimes = [String(combo.options.pythonVersion), '3.13', ...combo.more.map((f) => String(f.options?.runtime ?? '').replace(/^python3(\d+)$/, '3.$1')).filter(Boolean)];
    const oldest = runtimes.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))[0];
    const settings = read(dir, 'pyproject.toml');
    expect(settings).toContain(`target-version = "py${oldest.replace('.', '')}"`);
    expect(settings).toContain(`python_version = "${oldest}"`);
    expect(read(dir, '.python-version').trim()).toBe(String(combo.options.pythonVersion));
  });

  it('lists every function with its trigger in the README', () => {
    const readme = read(dir, 'README.md');
    for (const fn of [...combo.more, ...(combo.options.function ? [{ name: String(combo.options.function) }] : [])]) {
      const trigger = String((fn as { options?: { trigger?: string } }).options?.trigger ?? 'http');
      const label = trigger === 'http' ? 'HTTP' : trigger.startsWith('topic:') ? `Pub/Sub topic \`${trigger.slice(6)}\`` : `Cloud Storage bucket \`${trigger.slice(7)}\``;
      expect(readme).toContain(`| \`${fn.name}\` | ${label} |`);
    }
  });

  it('carries no value of another combination', () => {
    const others = COMBOS.filter((c) => c !== combo).flatMap((c) => [c.options.projectId, c.options.repository]);
    for (const file of listFiles(dir)) {
      const text = read(dir, file);
      for (const value of [...others, 'us-east4', 'mypypi']) {
        if (value === 'us-east4' && combo.options.functionRegion === 'us-east4') continue;
        expect(text.includes(String(value)), `${file} mentions ${value}`).toBe(false);
      }
    }
  });
});

describe('re-runs and the function generator', () => {
  const answers = COMBOS[0].options;

  it('re-runs from .yo-rc.json alone, changing nothing', async () => {
    const dir = tempDir('rerun');
    await runApp(dir, answers);
    const before = listFiles(dir).map((f) => [f, read(dir, f)]);
    await runApp(dir, {});
    expect(listFiles(dir).map((f) => [f, read(dir, f)])).toEqual(before);
  });

  it('merges the team\'s edits of the Python settings, the task runner and pre-commit with a re-render, like all wiring', async () => {
    const dir = tempDir('merge-python');
    await runApp(dir, answers);
    const edits: [string, string, string][] = [
      ['pyproject.toml', 'ignore = ["E501"]', 'ignore = ["E501", "B008"]'],
      ['noxfile.py', 'nox.options.sessions = ["lint", "types", "tests", "build"]', 'nox.options.sessions = ["lint", "tests"]'],
      ['.pre-commit-config.yaml', '      - id: ruff-format\n', '      - id: ruff-format\n        exclude: ^legacy/\n'],
    ];
    for (const [file, from, to] of edits) writeFileSync(path.join(dir, file), read(dir, file).replace(from, to));
    await runApp(dir, { pythonVersion: '3.12' });
    for (const [file, , to] of edits) expect(read(dir, file), file).toContain(to);
    // The repository moves to 3.12, and hello, whose runtime was never set apart from it, moves with it
    // (python312): the checks move to 3.12 too.
    expect(read(dir, '.python-version')).toBe('3.12\n');
    expect(read(dir, 'functions/hello/cloudbuild.yaml')).toContain('--runtime=python312');
    expect(read(dir, 'pyproject.toml')).toContain('python_version = "3.12"');
    expect(read(dir, 'package/pyproject.toml')).toContain('requires-python = ">=3.12"');
  });

  it('refuses a function name that exists, writing nothing', async () => {
    const dir = tempDir('exists');
    await runApp(dir, answers);
    const before = listFiles(dir).map((f) => [f, read(dir, f)]);
    await expect(runFunction(dir, 'hello')).rejects.toThrow('The function "hello" exists already (functions/hello); choose another name.');
    expect(listFiles(dir).map((f) => [f, read(dir, f)])).toEqual(before);
  });

  it('refuses to run outside a repository made by yo arpypi, writing nothing', async () => {
    const dir = tempDir('outside');
    await expect(runFunction(dir, 'hello')).rejects.toThrow(/No repository made by this generator here/);
    expect(listFiles(dir)).toEqual([]);
  });

  it('adds a function to the README table and leaves the other files alone', async () => {
    const dir = tempDir('add');
    await runApp(dir, answers);
    writeFileSync(path.join(dir, 'package/README.md'), '# edited by the team\n');
    await runFunction(dir, 'second');
    expect(read(dir, 'README.md')).toMatch(/\| `second` \| HTTP \| `europe-west1` \| `python311` \|/);
    expect(read(dir, 'package/README.md')).toBe('# edited by the team\n');
    expect(existsSync(path.join(dir, 'functions/second/main.py'))).toBe(true);
  });
});

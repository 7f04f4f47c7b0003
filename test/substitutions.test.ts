// Every $NAME in every generated build config resolves: to a Cloud Build built-in,
// or to a substitution that the config or its trigger defines.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConfigs, COMBOS, generate, listFiles, read, ROOT, tempDir } from './support/generate.js';
import { documentedManualBuilds, loadYaml, missingFromTrigger, mustMatchProblems, pipelines, referencesIn, substitutionProblems } from './support/substitutions.js';
import { runBuild, SubstitutionError } from './support/cloudbuild.js';
import { finishApp, pickValues } from '../dist/generators/core/answers.js';
import { APP_OPTIONS } from '../dist/generators/core/options.js';
import { buildModel } from '../dist/generators/core/model.js';
import { renderAll } from '../dist/generators/core/render.js';

describe.each(COMBOS)('$name', (combo) => {
  let dir: string;
  beforeAll(async () => {
    dir = await generate(combo);
  });

  it('every build config, run by its trigger or by hand, resolves every substitution', () => {
    const triggers = listFiles(dir).filter((f) => f.startsWith('triggers/'));
    const runs = pipelines(dir, triggers);
    expect(runs.map((r) => path.relative(dir, r.config)).sort()).toEqual(buildConfigs(dir));
    for (const { config, trigger } of runs) {
      expect(substitutionProblems(config, trigger.trigger.substitutions), trigger.file).toEqual([]);
      expect(substitutionProblems(config), `${config} by hand`).toEqual([]);
      expect(missingFromTrigger(config, trigger.trigger.substitutions), trigger.file).toEqual([]);
    }
  });
});

describe.each(COMBOS)('$name: manual builds (gcloud builds submit, MUST_MATCH)', (combo) => {
  let dir: string;
  beforeAll(async () => {
    dir = await generate(combo);
  });

  it('every build config passes with no substitutions and with each override the README documents', () => {
    const documented = documentedManualBuilds(read(dir, 'README.md'));
    const plain = documented.filter((b) => Object.keys(b.substitutions).length === 0).map((b) => b.config).sort();
    expect(plain).toEqual(buildConfigs(dir));
    expect(documented.length).toBeGreaterThan(plain.length);
    for (const { config, substitutions } of documented) {
      expect(mustMatchProblems(loadYaml(path.join(dir, config)), substitutions), `${config} ${JSON.stringify(substitutions)}`).toEqual([]);
    }
  });
});

describe('the MUST_MATCH model', () => {
  it('refuses a key used only inside another substitution, an unknown override and an undefined name, before any step runs', () => {
    const onlyInValue = { substitutions: { _REGION: 'r', _URL: 'https://${_REGION}/' }, steps: [{ name: 'x', args: ['$_URL'] }] };
    expect(mustMatchProblems(onlyInValue)).toEqual(['key "_REGION" in the substitution data is not matched in the template']);
    const used = { ...onlyInValue, steps: [{ name: 'x', args: ['$_URL'], env: ['REGION=$_REGION'] }] };
    expect(mustMatchProblems(used)).toEqual([]);
    expect(mustMatchProblems(used, { _TYPO: 'x' })).toEqual(['key "_TYPO" in the substitution data is not matched in the template']);
    expect(mustMatchProblems({ steps: [{ name: 'x', args: ['$_MISSING', '$BRANCH_NAME', '$PROJECT_ID'] }] })).toEqual([
      'key in the template "_MISSING" is not matched in the substitution data',
      'key in the template "BRANCH_NAME" is not matched in the substitution data',
    ]);
    const workspace = tempDir('must-match');
    writeFileSync(path.join(workspace, 'cloudbuild.yaml'), JSON.stringify({ ...onlyInValue, steps: [{ name: 'debian:trixie-slim', entrypoint: 'touch', args: ['ran'] }] }));
    const build = { workspace, config: 'cloudbuild.yaml', builtIns: { PROJECT_ID: 'p' }, env: process.env, logFile: path.join(workspace, 'log') };
    expect(() => runBuild({ ...build, mode: 'manual' })).toThrow(SubstitutionError);
    expect(listFiles(workspace)).toEqual(['cloudbuild.yaml']);
    expect(runBuild({ ...build, mode: 'trigger' }).ok).toBe(true);
  });
});

describe('the substitution check', () => {
  it('reads $$ as a literal and finds both spellings', () => {
    expect(referencesIn('$$HOME ${_A} $_B $PROJECT_ID $', 'x').map((r) => r.name)).toEqual(['_A', '_B', 'PROJECT_ID', '']);
  });

  it('fails when a template is broken on purpose', () => {
    const templates = tempDir('templates');
    cpSync(path.join(ROOT, 'templates'), templates, { recursive: true });
    const file = path.join(templates, 'function/cloudbuild.yaml.ejs');
    writeFileSync(file, readFileSync(file, 'utf8').replace('--region=$_FUNCTION_REGION', '--region=$_FUNCTION_REGOIN'));
    const pkg = path.join(templates, 'app/package/cloudbuild.yaml.ejs');
    writeFileSync(pkg, readFileSync(pkg, 'utf8').replace("args: [-m, pytest, -q]", "args: [-c, 'echo $HOME']"));

    const { answers } = finishApp(pickValues(APP_OPTIONS, { ...COMBOS[0].options, branch: 'main', functionRegion: 'europe-west1' }));
    const model = buildModel(answers, [{ name: 'hello', runtime: 'python311', memory: '256Mi', timeout: '60s', entryPoint: 'handler', allowUnauthenticated: false }], '0.0.0');
    const out = tempDir('broken-render');
    for (const f of renderAll(model, templates)) {
      const target = path.join(out, f.path);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, f.contents);
    }
    const fnProblems = substitutionProblems(path.join(out, 'functions/hello/cloudbuild.yaml'), { _REGION: 'x', _REPO: 'y', _FUNCTION_REGION: 'z' });
    expect(fnProblems.join('\n')).toMatch(/\$_FUNCTION_REGOIN is defined by neither/);
    expect(fnProblems.join('\n')).toMatch(/_FUNCTION_REGION is defined but never used/);
    const pkgProblems = substitutionProblems(path.join(out, 'package/cloudbuild.yaml'));
    expect(pkgProblems.join('\n')).toMatch(/\$HOME is defined by neither/);
  });
});

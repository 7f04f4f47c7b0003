// Every $NAME in every generated build config resolves: to a Cloud Build built-in,
// or to a substitution that the config or its trigger defines.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConfigs, COMBOS, generate, listFiles, ROOT, tempDir } from './support/generate.js';
import { missingFromTrigger, pipelines, referencesIn, substitutionProblems } from './support/substitutions.js';
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

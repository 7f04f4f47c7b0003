// Re-running `yo arpypi` in a generated repository: new answers reach every file that
// carries them and only those, edits are never overwritten silently, --dry-run
// writes nothing, and versions are respected both ways.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConfigs, listFiles, read } from './support/generate.js';
import { gcloudParse, ok } from './support/tools.js';
import { yo, yoDir } from './support/yo.js';

const COMMON = ['arpypi', '--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', 'acme-utils', '--function', 'hello', '--yes'];
const snapshot = (dir: string) => Object.fromEntries(listFiles(dir).map((f) => [f, read(dir, f)]));
const EDITED = 'functions/hello/cloudbuild.yaml';

describe('re-running yo arpypi', () => {
  let dir: string;
  let before: Record<string, string>;
  let fresh: Record<string, string>;

  beforeAll(async () => {
    dir = yoDir('rerun');
    expect((await yo(dir, [...COMMON, '--region', 'europe-west1'])).status).toBe(0);
    writeFileSync(path.join(dir, EDITED), `${read(dir, EDITED)}# our team's note\n`);
    before = snapshot(dir);
    const other = yoDir('rerun-fresh');
    const made = await yo(other, [...COMMON, '--region', 'us-east1', '--github-repo', path.basename(dir)]);
    expect(made.status, made.stdout + made.stderr).toBe(0);
    fresh = snapshot(other);
  });

  it('--dry-run lists what would change and writes nothing', async () => {
    const result = await yo(dir, ['arpypi', '--region', 'us-east1', '--yes', '--dry-run']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain('update package/cloudbuild.yaml');
    expect(result.stdout + result.stderr).toContain(`conflict ${EDITED}`);
    expect(snapshot(dir)).toEqual(before);
  });

  it('--region moves every file that carries it, only those, and keeps the edited one', async () => {
    const result = await yo(dir, ['arpypi', '--region', 'us-east1', '--yes']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain(`Kept 1 file(s) you edited, which this run would change: ${EDITED}.`);
    const after = snapshot(dir);
    const carried = Object.keys(before).filter((f) => before[f].includes('europe-west1') && f !== '.yo-rc.json');
    const changed = Object.keys(after).filter((f) => after[f] !== before[f] && f !== '.yo-rc.json');
    expect(changed.sort()).toEqual(carried.filter((f) => f !== EDITED).sort());
    for (const file of changed) expect(after[file], file).toBe(fresh[file]);
    expect(after[EDITED]).toBe(before[EDITED]);
    expect(JSON.parse(after['.yo-rc.json'])['generator-arpypi'].region).toBe('us-east1');
  });

  it('leaves a repository that still passes gcloud\'s parser and shellcheck', () => {
    expect(gcloudParse('build', buildConfigs(dir).map((f) => path.join(dir, f)))).toEqual([]);
    expect(gcloudParse('trigger', listFiles(dir).filter((f) => f.startsWith('triggers/')).map((f) => path.join(dir, f)))).toEqual([]);
    ok('shellcheck', listFiles(dir).filter((f) => f.endsWith('.sh')).map((f) => path.join(dir, f)));
  });

  it('--force overwrites the edited file', async () => {
    const result = await yo(dir, ['arpypi', '--yes', '--force']);
    expect(result.status, result.stderr).toBe(0);
    expect(read(dir, EDITED)).toBe(fresh[EDITED]);
  });

  it('removes a file an older version made and this one does not, unless it was edited', async () => {
    const rc = JSON.parse(read(dir, '.yo-rc.json'));
    const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
    writeFileSync(path.join(dir, 'scripts/old.sh'), 'echo old\n');
    writeFileSync(path.join(dir, 'scripts/old-edited.sh'), 'echo old, edited\n');
    rc['generator-arpypi'].files['scripts/old.sh'] = hash('echo old\n');
    rc['generator-arpypi'].files['scripts/old-edited.sh'] = hash('echo old\n');
    rc['generator-arpypi'].version = '0.0.1';
    writeFileSync(path.join(dir, '.yo-rc.json'), JSON.stringify(rc, null, 2));
    const result = await yo(dir, ['arpypi', '--yes']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain('Removed 1 file(s) this version no longer makes: scripts/old.sh.');
    expect(result.stdout + result.stderr).toContain('Kept 1 file(s) you edited that this version no longer makes: scripts/old-edited.sh.');
    expect(listFiles(dir)).not.toContain('scripts/old.sh');
    expect(read(dir, 'scripts/old-edited.sh')).toBe('echo old, edited\n');
    const stored = JSON.parse(read(dir, '.yo-rc.json'))['generator-arpypi'];
    expect(stored.version).toBe(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8')).version);
    expect(Object.keys(stored.files)).not.toContain('scripts/old.sh');
  });

  it('refuses a repository written by a newer generator, writing nothing', async () => {
    const rc = JSON.parse(read(dir, '.yo-rc.json'));
    rc['generator-arpypi'].version = '99.0.0';
    writeFileSync(path.join(dir, '.yo-rc.json'), JSON.stringify(rc, null, 2));
    const now = snapshot(dir);
    for (const args of [['arpypi', '--region', 'us-west1', '--yes'], ['arpypi:function', 'second', '--yes']]) {
      const result = await yo(dir, args);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/generated by generator-arpypi 99\.0\.0, newer than this one \(\d+\.\d+\.\d+\); update the generator/);
    }
    expect(snapshot(dir)).toEqual(now);
  });
});

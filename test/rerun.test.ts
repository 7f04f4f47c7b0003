// Re-running through the real `yo` (the bin's twin tests are in safety.test.ts): new
// answers reach every file that carries them; an edited wiring file is merged three
// ways, an overlapping edit is a conflict that exits 1 and is quiet once resolved;
// --force takes the new render for what this run changes and never a sample;
// versions are respected both ways.
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConfigs, listFiles, read } from './support/generate.js';
import { gcloudParse, ok } from './support/tools.js';
import { madeByBin, yo, yoDir } from './support/yo.js';

const COMMON = ['arpypi', '--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', 'acme-utils', '--function', 'hello', '--yes'];
const snapshot = (dir: string) => Object.fromEntries(listFiles(dir).map((f) => [f, read(dir, f)]));
const EDITED = 'functions/hello/cloudbuild.yaml';
const NOTE = "# our team's note\n";
const SAMPLE = 'functions/hello/main.py';

describe('re-running yo arpypi', () => {
  let dir: string;
  let before: Record<string, string>;
  let fresh: Record<string, string>;

  beforeAll(async () => {
    dir = yoDir('rerun');
    expect((await yo(dir, [...COMMON, '--region', 'europe-west1'])).status).toBe(0);
    writeFileSync(path.join(dir, EDITED), `${read(dir, EDITED)}${NOTE}`);
    writeFileSync(path.join(dir, SAMPLE), `${read(dir, SAMPLE)}\n# my code\n`);
    before = snapshot(dir);
    const other = yoDir('rerun-fresh');
    madeByBin(other, [...COMMON.slice(1), '--region', 'us-east1', '--github-repo', path.basename(dir)]);
    fresh = snapshot(other);
  });

  it('--dry-run lists what would change, the merge included, and writes nothing', async () => {
    const result = await yo(dir, ['arpypi', '--region', 'us-east1', '--yes', '--dry-run']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('    update package/cloudbuild.yaml');
    expect(result.stdout).toContain(`    merged ${EDITED}`);
    expect(result.stdout).toContain('Dry run: nothing was written.');
    expect(snapshot(dir)).toEqual(before);
  });

  it('--region moves every file that carries it, merges the edited one, and ends with the next step', async () => {
    const result = await yo(dir, ['arpypi', '--region', 'us-east1', '--yes']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Done: updated \d+ files, merged 1 file with your edits, kept 1 file of yours as you have them\./);
    expect(result.stdout).toContain('Next: bash scripts/setup-gcp.sh --dry-run');
    expect(result.stdout + result.stderr).not.toMatch(/package manager install|force \.yo-rc\.json/);
    const after = snapshot(dir);
    const carried = Object.keys(before).filter((f) => before[f].includes('europe-west1') && !f.startsWith('.'));
    const changed = Object.keys(after).filter((f) => after[f] !== before[f] && !f.startsWith('.'));
    expect(changed.sort()).toEqual(carried.sort());
    for (const file of changed.filter((f) => f !== EDITED)) expect(after[file], file).toBe(fresh[file]);
    expect(after[EDITED]).toBe(`${fresh[EDITED]}${NOTE}`);
    expect(after[SAMPLE]).toBe(before[SAMPLE]);
    expect(JSON.parse(after['.yo-rc.json'])['generator-arpypi'].region).toBe('us-east1');
  });

  it('leaves a repository that still passes gcloud\'s parser and shellcheck', () => {
    expect(gcloudParse('build', buildConfigs(dir).map((f) => path.join(dir, f)))).toEqual([]);
    expect(gcloudParse('trigger', listFiles(dir).filter((f) => f.startsWith('triggers/')).map((f) => path.join(dir, f)))).toEqual([]);
    ok('shellcheck', listFiles(dir).filter((f) => f.endsWith('.sh')).map((f) => path.join(dir, f)));
  });

  it('an edit on a line the run changes is a conflict: markers, exit 1; once resolved, the next run is quiet', async () => {
    const text = read(dir, EDITED).replace(/^  _REGION: .*$/m, '  _REGION: europe-west4 # ours');
    expect(text).toContain('# ours');
    writeFileSync(path.join(dir, EDITED), text);
    const conflicted = await yo(dir, ['arpypi', '--region', 'us-west1', '--yes']);
    expect(conflicted.status).toBe(1);
    expect(conflicted.stdout).toContain(`  conflict ${EDITED}`);
    expect(conflicted.stdout).toContain(`Conflicts in ${EDITED}: your edits and the generator's change overlap;`);
    expect(conflicted.stderr).toContain('Some files hold conflict markers');
    const now = read(dir, EDITED);
    expect(now).toMatch(/^<<<<<<< yours\n  _REGION: europe-west4 # ours\n\|\|\|\|\|\|\| last generated\n  _REGION: us-east1\n=======\n  _REGION: us-west1\n>>>>>>> generator-arpypi \d+\.\d+\.\d+$/m);
    expect(now).toContain(NOTE);

    const again = await yo(dir, ['arpypi', '--yes']);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain(`Still unresolved: ${EDITED}`);

    // Resolved by hand: the user keeps their own line.
    writeFileSync(path.join(dir, EDITED), now.replace(/^<<<<<<< yours\n([\s\S]*?)^\|{7}[\s\S]*?^>>>>>>> .*\n/m, '$1'));
    const quiet = await yo(dir, ['arpypi', '--yes']);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).toContain('Nothing to change: every file is up to date.');
    expect(read(dir, EDITED)).toContain('_REGION: europe-west4 # ours');
  });

  it('--force never rewrites a sample, and refuses a symbolic link on the way', async () => {
    const result = await yo(dir, ['arpypi', '--yes', '--force']);
    expect(result.status, result.stderr).toBe(0);
    expect(read(dir, SAMPLE)).toContain('# my code');

    const target = path.join(path.dirname(dir), `${path.basename(dir)}-elsewhere.md`);
    writeFileSync(target, 'not the repository\n');
    unlinkSync(path.join(dir, 'README.md'));
    symlinkSync(target, path.join(dir, 'README.md'));
    const linked = await yo(dir, ['arpypi', '--region', 'us-east4', '--yes', '--force']);
    expect(linked.status).toBe(1);
    expect(linked.stderr).toContain('README.md is a symbolic link, and this generator never writes through one');
    expect(readFileSync(target, 'utf8')).toBe('not the repository\n');
    unlinkSync(path.join(dir, 'README.md'));
    writeFileSync(path.join(dir, 'README.md'), readFileSync(target, 'utf8'));
  });

  it('a run that fails part-way (a read-only folder) leaves every file as it was', async () => {
    const now = snapshot(dir);
    chmodSync(path.join(dir, 'triggers'), 0o555);
    try {
      const result = await yo(dir, ['arpypi', '--region', 'asia-east1', '--yes', '--force']);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/Could not write triggers\/[a-z-]+\.yaml: permission denied \(EACCES\); every file is as it was before this run\./);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      chmodSync(path.join(dir, 'triggers'), 0o755);
    }
    expect(snapshot(dir)).toEqual(now);
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
    expect(result.stdout).toContain('    remove scripts/old.sh');
    expect(result.stdout).toContain('Kept 1 file you edited that this run no longer makes: scripts/old-edited.sh;');
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
    // The function command's refusal is the same core call, tested through the bin (bin.test.ts).
    const result = await yo(dir, ['arpypi', '--region', 'us-west1', '--yes']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/generated by generator-arpypi 99\.0\.0, newer than this one \(\d+\.\d+\.\d+\); update the generator/);
    expect(snapshot(dir)).toEqual(now);
  });
});

// Re-running through the real `yo` (the bin's twin tests are in safety.test.ts): new
// answers reach every file that carries them; an edited wiring file is merged three
// ways, an overlapping edit is a conflict that exits 1, and the record keeps the file's
// old base until it holds the generator's change; --force takes the new render for every
// wiring file and never a sample; .yo-rc.json names only the generator's files;
// versions are respected both ways.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
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
    expect(result.stdout).toMatch(/Done: updated \d+ files, merged 1 file with your edits, kept 1 file of yours as you have it\./);
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

  it('an edit on a line the run changes is a conflict: markers, exit 1; resolved to the user\'s line it conflicts again, to the generator\'s it is quiet', async () => {
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

    // Resolved by hand to the user's own line: the generator's region never arrived, and the record says so.
    writeFileSync(path.join(dir, EDITED), now.replace(/^<<<<<<< yours\n([\s\S]*?)^\|{7}[\s\S]*?^>>>>>>> .*\n/m, '$1'));
    const retried = await yo(dir, ['arpypi', '--yes']);
    expect(retried.status).toBe(1);
    expect(retried.stdout).toContain(`  conflict ${EDITED}`);
    expect(retried.stdout).not.toContain('up to date');

    // Resolved to the generator's line, the note kept: quiet, the user's file as they have it.
    writeFileSync(path.join(dir, EDITED), read(dir, EDITED).replace(/^<<<<<<< yours\n[\s\S]*?^=======\n([\s\S]*?)^>>>>>>> .*\n/m, '$1'));
    const quiet = await yo(dir, ['arpypi', '--yes']);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).toContain('kept 2 files of yours as you have them.');
    expect(quiet.stdout).not.toContain(`conflict ${EDITED}`);
    expect(read(dir, EDITED)).toContain('  _REGION: us-west1\n');
    expect(read(dir, EDITED)).toContain(NOTE);
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

  it('refuses a .yo-rc.json entry for a file that is not the generator\'s (.git/HEAD), writing nothing', async () => {
    const rc = JSON.parse(read(dir, '.yo-rc.json'));
    const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
    mkdirSync(path.join(dir, '.git'), { recursive: true });
    writeFileSync(path.join(dir, '.git/HEAD'), 'ref: refs/heads/main\n');
    // yo's user may delete it, as in a clone of theirs: only the generator's refusal keeps it.
    if (process.getuid?.() === 0) for (const p of ['.git', '.git/HEAD']) chownSync(path.join(dir, p), 1000, 1000);
    rc['generator-arpypi'].files['.git/HEAD'] = hash('ref: refs/heads/main\n');
    writeFileSync(path.join(dir, '.yo-rc.json'), JSON.stringify(rc, null, 2));
    const now = snapshot(dir);
    const result = await yo(dir, ['arpypi', '--yes']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('"files" has the entry ".git/HEAD" in .yo-rc.json, which is not a file this generator writes for the answers stored there; remove the entry.');
    expect(snapshot(dir)).toEqual(now);
    expect(read(dir, '.git/HEAD')).toBe('ref: refs/heads/main\n');
    delete rc['generator-arpypi'].files['.git/HEAD'];
    writeFileSync(path.join(dir, '.yo-rc.json'), JSON.stringify(rc, null, 2));
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

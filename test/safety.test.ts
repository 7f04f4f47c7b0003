// The generator never loses, leaks or half-writes a file (through the bin; the yo
// door's sample is rerun.test.ts): .yo-rc.json is input, runs are all or nothing, no
// write goes through a symbolic link, samples are the user's, wiring is merged three
// ways (across a generator upgrade too), one repository at a time, remove and rename.
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listFiles, read, ROOT } from './support/generate.js';
import { ANSWERS as BASE_ANSWERS, arpypi, asRoot, BIN, cleanUp, editStore, folder, generated, made, tree } from './support/bin.js';
import { madeByBin, yo, yoDir } from './support/yo.js';

const ANSWERS = [...BASE_ANSWERS, '--function', 'hello', '--yes'];

afterAll(cleanUp);

const yoRc = (dir: string) => JSON.parse(read(dir, '.yo-rc.json'));

function refused(dir: string, outer: string, args: readonly string[], message: RegExp | string): void {
  const before = tree(outer);
  const r = arpypi(dir, args);
  expect(r.status).toBe(1);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
  expect(tree(outer)).toEqual(before);
}

describe('.yo-rc.json is input', () => {
  it('refuses a files entry or a function key out of the repository, touching nothing anywhere', () => {
    const { outer, dir } = generated();
    writeFileSync(path.join(outer, 'victim.txt'), 'victim\n');
    const victimHash = yoRc(dir)['generator-arpypi'].files['.gitignore'];
    editStore(dir, (s) => {
      s.files['../victim.txt'] = victimHash;
    });
    refused(dir, outer, ['--yes'], '"files" has the entry "../victim.txt" in .yo-rc.json, which is not a path inside the repository: no empty, "." or ".." parts; remove the entry.');

    editStore(dir, (s) => {
      delete s.files['../victim.txt'];
      s.files['/etc/hostname'] = victimHash;
    });
    refused(dir, outer, ['--yes'], '"files" has the entry "/etc/hostname" in .yo-rc.json, which is not a path inside the repository');

    editStore(dir, (s) => {
      delete s.files['/etc/hostname'];
      s.functions['../../etc'] = { ...s.functions.hello, name: '../../etc' };
    });
    refused(dir, outer, ['--yes'], '"functions" has the key "../../etc" in .yo-rc.json, which is not a function name');
    refused(dir, outer, ['function', 'api', '--yes'], '"functions" has the key "../../etc" in .yo-rc.json');
  });

  it('refuses bad stored values, naming the key and the rule', () => {
    const { outer, dir } = generated();
    const cases: [string, (s: Record<string, any>) => void, string][] = [
      ['entryPoint', (s) => (s.functions.hello.entryPoint = '1st; rm -rf ~'), '"functions.hello.entryPoint" in .yo-rc.json "1st; rm -rf ~" is not a Python function name'],
      ['memory', (s) => (s.functions.hello.memory = '64Mi'), '"functions.hello.memory" in .yo-rc.json "64Mi" is outside what a 2nd gen function can have: 128Mi to 32Gi.'],
      ['timeout', (s) => (s.functions.hello.timeout = '99999s'), '"functions.hello.timeout" in .yo-rc.json "99999s" is outside what a 2nd gen HTTP function allows: 1s to 3600s.'],
      ['region', (s) => (s.region = 'mars1'), '"region" in .yo-rc.json "mars1" is not an Artifact Registry location'],
      ['projectId', (s) => (s.projectId = 'x";rm'), '"projectId" in .yo-rc.json "x\\";rm" is not a Google Cloud project id'],
      ['allowUnauthenticated', (s) => (s.functions.hello.allowUnauthenticated = 'yes'), '"functions.hello.allowUnauthenticated" in .yo-rc.json must be true or false.'],
      ['unknown key', (s) => (s.postInstall = 'curl evil | sh'), '"postInstall" in .yo-rc.json is not an answer this generator stores; remove it.'],
    ];
    const original = read(dir, '.yo-rc.json');
    for (const [, edit, message] of cases) {
      writeFileSync(path.join(dir, '.yo-rc.json'), original);
      editStore(dir, edit);
      refused(dir, outer, ['--yes'], message);
      refused(dir, outer, ['function', 'api', '--yes'], message);
    }
  });

  it('the same refusal through yo', async () => {
    const dir = yoDir('safety-yo');
    madeByBin(dir, ANSWERS);
    editStore(dir, (s) => (s.functions.hello.memory = '64Mi'));
    const before = tree(dir);
    const r = await yo(dir, ['arpypi:function', 'api', '--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('"functions.hello.memory" in .yo-rc.json "64Mi" is outside what a 2nd gen function can have: 128Mi to 32Gi.');
    expect(tree(dir)).toEqual(before);
  });
});

describe('.arpypi/ is input too', () => {
  it('a journal that came with a clone (another machine, or a step on .git) is refused in one sentence and never acted upon', () => {
    const { outer, dir } = generated();
    writeFileSync(path.join(outer, 'victim.txt'), 'victim\n');
    mkdirSync(path.join(dir, '.arpypi/commit'));
    const journal = (host: string, steps: unknown[]) =>
      writeFileSync(path.join(dir, '.arpypi/commit/journal.json'), JSON.stringify({ pid: 1, host, command: 'arpypi', steps }));
    journal('elsewhere', [{ do: 'write', path: 'README.md', staged: 'new-0' }]);
    refused(dir, outer, ['--yes'], '.arpypi/commit/journal.json was written on another machine ("elsewhere"), so this run will not act on it; if no run of this generator was cut off here, delete .arpypi/commit, then run again.');
    journal(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), [{ do: 'write', path: '.git/HEAD', staged: 'new-0' }]);
    refused(dir, outer, ['--yes'], /^\.arpypi\/commit\/journal\.json names a step this generator never takes/);
    journal(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), [{ do: 'move', from: '../victim.txt', to: 'README.md' }]);
    refused(dir, outer, ['--yes'], /^\.arpypi\/commit\/journal\.json names a step this generator never takes/);
  });
});

describe('all or nothing', () => {
  /** The repository handed to uid 1000 (root can write anywhere, so these runs are an ordinary user's). */
  function handOver(outer: string, dir: string): void {
    if (!asRoot) throw new Error('this test runs as root, as CI and the README\'s test command do, to run the bin as an ordinary user');
    chownSync(outer, 1000, 1000);
    for (const rel of ['', ...listFiles(dir)]) {
      for (let p = rel; p !== '.' && p !== ''; p = path.dirname(p)) chownSync(path.join(dir, p), 1000, 1000);
    }
    chownSync(dir, 1000, 1000);
  }

  it('a folder it cannot write (read-only): nothing is written, and the sentence names the file and the cause', () => {
    const { outer, dir } = generated();
    handOver(outer, dir);
    chmodSync(path.join(dir, 'scripts'), 0o555);
    const before = tree(outer);
    const r = arpypi(dir, ['--region', 'europe-west1', '--yes'], { uid: 1000 });
    chmodSync(path.join(dir, 'scripts'), 0o755);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('Could not write scripts/setup-gcp.sh: permission denied (EACCES); every file is as it was before this run.\n');
    expect(r.stdout).toBe('');
    expect(tree(outer)).toEqual(before);
  });

  it('a file it cannot replace after others were replaced: those are put back, byte for byte and mode for mode', () => {
    const { outer, dir } = generated();
    handOver(outer, dir);
    // A sticky folder lets uid 1000 make its temporary file there but not replace root's file.
    chownSync(path.join(dir, 'scripts'), 0, 0);
    chmodSync(path.join(dir, 'scripts'), 0o1777);
    chownSync(path.join(dir, 'scripts/setup-gcp.sh'), 0, 0);
    const before = tree(outer);
    const r = arpypi(dir, ['--region', 'europe-west1', '--yes'], { uid: 1000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('Could not write scripts/setup-gcp.sh: permission denied (EPERM); every file is as it was before this run.\n');
    expect(tree(outer)).toEqual(before);
    // README.md comes before it in the run, so it had been replaced, and was put back.
    expect(read(dir, 'README.md')).toContain('us-central1');
  });

  it('a name too long for the file system: one sentence, nothing written', () => {
    const { outer, dir } = folder();
    const name = `a${'b'.repeat(260)}`;
    const r = arpypi(dir, ['--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', name, '--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Could not write package\/src\/ab+\/__init__\.py: the file name is too long \(ENAMETOOLONG\); every file is as it was before this run\.\n$/);
    expect(r.stdout).toBe('');
    expect(tree(outer)).toEqual({});
  });
});

describe('never through a symbolic link', () => {
  it('refuses a linked file and a file under a linked folder, with --force too', () => {
    const { outer, dir } = generated();
    writeFileSync(path.join(outer, 'elsewhere.md'), 'outside\n');
    rmSync(path.join(dir, 'README.md'));
    symlinkSync(path.join(outer, 'elsewhere.md'), path.join(dir, 'README.md'));
    refused(dir, outer, ['--region', 'europe-west1', '--yes', '--force'], 'README.md is a symbolic link, and this generator never writes through one (README.md); replace it with a plain file, then run again. Nothing was written.');
    rmSync(path.join(dir, 'README.md'));
    writeFileSync(path.join(dir, 'README.md'), 'mine\n');

    mkdirSync(path.join(outer, 'real-triggers'));
    cpSync(path.join(dir, 'triggers'), path.join(outer, 'real-triggers'), { recursive: true });
    rmSync(path.join(dir, 'triggers'), { recursive: true });
    symlinkSync(path.join(outer, 'real-triggers'), path.join(dir, 'triggers'));
    refused(dir, outer, ['--region', 'europe-west1', '--yes', '--force'], /^triggers is a symbolic link, and this generator never writes through one \(triggers\/[a-z-]+\.yaml\); replace it with a plain folder/);
  });
});

describe('samples are the user\'s', () => {
  it('--force adds a function and rewrites no sample: not main.py, not the package source with its bumped version', () => {
    const { dir } = generated();
    const init = 'package/src/acme_utils/__init__.py';
    writeFileSync(path.join(dir, init), read(dir, init).replace(/__version__ = ".*"/, '__version__ = "0.4.2"'));
    writeFileSync(path.join(dir, 'functions/hello/main.py'), 'def handler(request):\n    return "mine"\n');
    const before = { init: read(dir, init), main: read(dir, 'functions/hello/main.py') };
    const r = arpypi(dir, ['function', 'api', '--force', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(read(dir, init)).toBe(before.init);
    expect(read(dir, 'functions/hello/main.py')).toBe(before.main);
    expect(r.stdout).not.toMatch(/force (package|functions\/hello)/);
    const again = arpypi(dir, ['--region', 'europe-west1', '--force', '--yes']);
    expect(again.status, again.stderr).toBe(0);
    expect(read(dir, init)).toBe(before.init);
    expect(read(dir, 'functions/hello/main.py')).toBe(before.main);
  });

  it('a deleted sample stays deleted, and the report says how to have it back', () => {
    const { dir } = generated();
    const sample = 'functions/hello/test_main.py';
    rmSync(path.join(dir, sample));
    for (const args of [['--yes'], ['--region', 'europe-west1', '--yes', '--force']]) {
      const r = arpypi(dir, args);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Samples you deleted stay deleted: ${sample}; to have one back, remove its entry from "files" in .yo-rc.json and run again.`);
      expect(existsSync(path.join(dir, sample))).toBe(false);
    }
    editStore(dir, (s) => delete s.files[sample]);
    const back = arpypi(dir, ['--yes']);
    expect(back.stdout).toContain(`    create ${sample}`);
  });
});

describe('three-way merges', () => {
  it('a conflict exits 1 with markers; a resolution that drops the generator\'s change conflicts again, one that keeps it is quiet (bin)', () => {
    const { dir } = generated();
    const file = 'triggers/package.yaml';
    const mine = `# ours\n${read(dir, file).replace(/^( *_REGION: ).*$/m, '$1us-west2')}`;
    writeFileSync(path.join(dir, file), mine);
    const r = arpypi(dir, ['--region', 'europe-west1', '--yes']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`  conflict ${file}`);
    const marked = read(dir, file);
    expect(marked).toMatch(/^<<<<<<< yours$/m);
    // Markers gone, the user's line kept: the generator's region never arrived, so the next run merges again.
    writeFileSync(path.join(dir, file), marked.replace(/^<<<<<<< yours\n([\s\S]*?)^\|{7}[\s\S]*?^>>>>>>> .*\n/m, '$1'));
    const again = arpypi(dir, ['--yes']);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain(`  conflict ${file}`);
    expect(again.stdout).not.toContain('up to date');
    // The generator's line taken, the user's header kept: quiet, and the record moves on.
    writeFileSync(path.join(dir, file), read(dir, file).replace(/^<<<<<<< yours\n[\s\S]*?^=======\n([\s\S]*?)^>>>>>>> .*\n/m, '$1'));
    const quiet = arpypi(dir, ['--yes']);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).toContain('1 file of yours as you have it.');
    expect(read(dir, file)).toMatch(/^# ours\n[\s\S]*_REGION: europe-west1$/m);
    const next = arpypi(dir, ['--region', 'us-east1', '--yes']);
    expect(next.status, next.stderr).toBe(0);
    expect(next.stdout).toContain(`    merged ${file}`);
    expect(read(dir, file)).toMatch(/^# ours\n[\s\S]*_REGION: us-east1$/m);
  });

  it('merges across a generator version change, from the bases kept in .arpypi/', () => {
    // A newer generator: the same bin and templates, one wiring line more, a higher version.
    const newer = mkdtempSync(path.join(os.tmpdir(), 'arpypi-newer-'));
    made.push(newer);
    cpSync(path.join(ROOT, 'templates'), path.join(newer, 'templates'), { recursive: true });
    mkdirSync(path.join(newer, 'dist/bin'), { recursive: true });
    cpSync(BIN, path.join(newer, 'dist/bin/arpypi.js'));
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    writeFileSync(path.join(newer, 'package.json'), JSON.stringify({ ...pkg, version: '9.0.0' }));
    const template = path.join(newer, 'templates/function/cloudbuild.yaml.ejs');
    const text = readFileSync(template, 'utf8');
    expect(text).toContain('      - --quiet\n');
    writeFileSync(template, text.replace('      - --quiet\n', '      - --quiet\n      - --verbosity=warning\n'));

    const { dir } = generated();
    const file = 'functions/hello/cloudbuild.yaml';
    writeFileSync(path.join(dir, file), `# our team's header\n${read(dir, file)}`);
    const r = arpypi(dir, ['--yes'], { bin: path.join(newer, 'dist/bin/arpypi.js') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`    merged ${file}`);
    const merged = read(dir, file);
    expect(merged.startsWith("# our team's header\n")).toBe(true);
    expect(merged).toContain('      - --verbosity=warning\n');
    expect(yoRc(dir)['generator-arpypi'].version).toBe('9.0.0');
  });
});

describe('one repository at a time', () => {
  it('refuses to run in a folder of a generated repository, through the bin and yo', async () => {
    const { outer, dir } = generated();
    const inner = path.join(dir, 'package');
    refused(inner, outer, ['--yes'], `This folder is inside the repository at ${dir} (its .yo-rc.json is there); run this in ${dir}, one repository at a time.`);
    refused(inner, outer, ['function', 'api', '--yes'], `run this in ${dir}`);

    const viaYo = yoDir('nested');
    madeByBin(viaYo, ANSWERS);
    const before = tree(viaYo);
    const r = await yo(path.join(viaYo, 'package'), ['arpypi', '--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`This folder is inside the repository at ${viaYo}`);
    expect(tree(viaYo)).toEqual(before);
  });
});

describe('remove and rename', () => {
  it('arpypi function NAME --remove: its files, trigger and entry go, edited ones stay, and setup-gcp --prune is named', () => {
    const { dir } = generated();
    expect(arpypi(dir, ['function', 'api', '--trigger', 'topic:jobs', '--yes']).status).toBe(0);
    writeFileSync(path.join(dir, 'functions/api/main.py'), `${read(dir, 'functions/api/main.py')}# mine\n`);
    const r = arpypi(dir, ['function', 'api', '--remove', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('    remove triggers/fn-api.yaml');
    expect(r.stdout).toContain('      keep functions/api/main.py (you edited it; no longer generated)');
    expect(r.stdout).toContain('bash scripts/setup-gcp.sh --prune, which deletes the Cloud Build trigger fn-api, the service accounts fn-api@acme-prod.iam.gserviceaccount.com and ev-api@acme-prod.iam.gserviceaccount.com and their role bindings');
    expect(listFiles(dir).filter((f) => f.includes('api'))).toEqual(['functions/api/main.py']);
    expect(Object.keys(yoRc(dir)['generator-arpypi'].functions)).toEqual(['hello']);
    for (const file of ['README.md', 'cloudbuild-pr.yaml', 'scripts/setup-gcp.sh']) expect(read(dir, file), file).not.toMatch(/\bapi\b.*jobs|functions\/api/);
    const missing = arpypi(dir, ['function', 'api', '--remove', '--yes']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('There is no function "api" to remove; this repository has hello.\n');
  });

  it('yo arpypi:function NAME --remove does the same', async () => {
    const dir = yoDir('remove');
    madeByBin(dir, ANSWERS);
    const r = await yo(dir, ['arpypi:function', 'hello', '--remove', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'functions'))).toBe(false);
    expect(existsSync(path.join(dir, 'triggers/fn-hello.yaml'))).toBe(false);
    expect(yoRc(dir)['generator-arpypi'].functions).toBeUndefined();
  });

  it('renaming the package moves the import folder with the user\'s code, and says so', () => {
    const { dir } = generated();
    writeFileSync(path.join(dir, 'package/src/acme_utils/extra.py'), 'VALUE = 1\n');
    const init = read(dir, 'package/src/acme_utils/__init__.py');
    const r = arpypi(dir, ['--package-name', 'acme-tools', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('      move package/src/acme_utils -> package/src/acme_tools');
    expect(r.stdout).toContain('Moved your package code from package/src/acme_utils to package/src/acme_tools, since the package was renamed.');
    expect(existsSync(path.join(dir, 'package/src/acme_utils'))).toBe(false);
    expect(read(dir, 'package/src/acme_tools/extra.py')).toBe('VALUE = 1\n');
    expect(read(dir, 'package/src/acme_tools/__init__.py')).toBe(init);
    expect(read(dir, 'package/pyproject.toml')).toContain('acme-tools');
    expect(Object.keys(yoRc(dir)['generator-arpypi'].files)).toContain('package/src/acme_tools/__init__.py');
  });
});

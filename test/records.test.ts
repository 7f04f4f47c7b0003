// What the generator records is what is on disk (issue 15), each item of its "Why" through
// the bin, and the names that are object properties through yo as well (the yo door's
// records and .yo-rc.json checks are in rerun.test.ts; interrupts and two runs at once in
// interrupts.test.ts; a deleted sample in safety.test.ts; yo's --version and terminal in
// doors.test.ts; the README's bad-input rows in bad-input.test.ts).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashOf } from '../dist/generators/core/plan.js';
import { ANSWERS, arpypi, arpypiOk, cleanUp, editStore, folder, generated, handOver, read, stored, tree } from './support/bin.js';
import { madeByBin, yo, yoDir } from './support/yo.js';

afterAll(cleanUp);

const git = (dir: string, ...args: string[]) => {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const committed = (dir: string) => {
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'generated');
};
/** Every file, less the git folder, as text. */
const files = (dir: string) => tree(dir, false);
const WIRING_WITH_REGION = 'functions/hello/cloudbuild.yaml';

describe('1. the record is the truth', () => {
  it('a conflicted file put back with git checkout is merged again on the next run, never called up to date', () => {
    const { dir } = generated();
    const mine = read(dir, WIRING_WITH_REGION).replace(/^( *_REGION: ).*$/m, '$1us-west2 # ours');
    writeFileSync(path.join(dir, WIRING_WITH_REGION), mine);
    committed(dir);
    const first = arpypi(dir, ['--region', 'europe-west1', '--yes']);
    expect(first.status).toBe(1);
    expect(first.stdout).toContain(`  conflict ${WIRING_WITH_REGION}`);
    git(dir, 'checkout', '--', WIRING_WITH_REGION);
    for (const args of [['--yes', '--dry-run'], ['--yes']]) {
      const again = arpypi(dir, args);
      expect(again.status).toBe(1);
      expect(again.stdout).toContain(`  conflict ${WIRING_WITH_REGION}`);
      expect(again.stdout).not.toMatch(/up to date|Nothing to change/);
    }
  });

  it('restored older answers and bases with --force put every wiring file on them', () => {
    const { dir } = generated();
    const fresh = files(dir);
    committed(dir);
    arpypiOk(dir, ['--region', 'europe-west1', '--yes']);
    git(dir, 'checkout', 'HEAD', '--', '.yo-rc.json', '.arpypi');
    const forced = arpypiOk(dir, ['--yes', '--force']);
    expect(forced.stdout).toMatch(/ force /);
    expect(files(dir)).toEqual(fresh);
  });
});

describe('2. only the generator\'s own paths', () => {
  it('a .yo-rc.json entry for .git/HEAD, or for a path the answers do not make, is refused in one sentence, and nothing is written', () => {
    const { dir } = generated();
    committed(dir);
    const cases: [string, string][] = [
      ['.git/HEAD', read(dir, '.git/HEAD')],
      ['functions/ghost/main.py', 'def handler(request):\n    return "x"\n'],
      ['package/src/other/__init__.py', '"""other"""\n'],
    ];
    const original = read(dir, '.yo-rc.json');
    for (const [file, text] of cases) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
      writeFileSync(path.join(dir, '.yo-rc.json'), original);
      editStore(dir, (s) => (s.files[file] = hashOf(text)));
      const before = tree(dir);
      const r = arpypi(dir, ['--yes']);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`"files" has the entry "${file}" in .yo-rc.json, which is not a file this generator writes for the answers stored there; remove the entry.\n`);
      expect(r.stdout).toBe('');
      expect(tree(dir)).toEqual(before);
    }
    writeFileSync(path.join(dir, '.yo-rc.json'), original);
    expect(git(dir, 'rev-parse', '--is-inside-work-tree').trim()).toBe('true');
  });
});

describe('5. a half-resolved conflict', () => {
  it('a file holding any marker line (here ||||||| and =======) is unresolved: named, left alone, exit 1', () => {
    const { dir } = generated();
    writeFileSync(path.join(dir, WIRING_WITH_REGION), read(dir, WIRING_WITH_REGION).replace(/^( *_REGION: ).*$/m, '$1us-west2'));
    expect(arpypi(dir, ['--region', 'europe-west1', '--yes']).status).toBe(1);
    const half = read(dir, WIRING_WITH_REGION).replace(/^(<{7}|>{7}) .*\n/gm, '');
    expect(half).toMatch(/^\|{7} /m);
    writeFileSync(path.join(dir, WIRING_WITH_REGION), half);
    const r = arpypi(dir, ['--yes']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`Still unresolved: ${WIRING_WITH_REGION}: conflict marker lines`);
    expect(r.stderr).toContain('Some files hold conflict markers');
    expect(read(dir, WIRING_WITH_REGION)).toBe(half);
  });
});

describe('6. line endings', () => {
  it('a clone with CRLF endings merges as the same text, keeps CRLF, and says what it did', () => {
    const { dir } = generated();
    const reference = generated(['--function', 'hello', '--region', 'europe-west1']);
    const text = Object.keys(files(dir)).filter((f) => !f.startsWith('.arpypi/') && f !== '.yo-rc.json');
    for (const file of text) writeFileSync(path.join(dir, file), read(dir, file).replaceAll('\n', '\r\n'));
    writeFileSync(path.join(dir, 'README.md'), `${read(dir, 'README.md')}Our own line.\r\n`);
    const r = arpypiOk(dir, ['--region', 'europe-west1', '--yes']);
    expect(r.stdout).toContain('    merged README.md');
    expect(r.stdout).not.toMatch(/conflict|Nothing to change/);
    expect(read(dir, 'README.md')).toBe(`${read(reference.dir, 'README.md')}Our own line.\n`.replaceAll('\n', '\r\n'));
    for (const file of text.filter((f) => f !== 'README.md')) expect(read(dir, file), file).toBe(read(reference.dir, file).replaceAll('\n', '\r\n'));
  });
});

describe('7. names that are object properties', () => {
  it('arpypi function constructor: added, refused when it exists, removed; --function constructor on a new repository; __proto__ and the like are no names', () => {
    const { dir } = generated([]);
    expect(arpypiOk(dir, ['function', 'constructor', '--yes']).stdout).toContain('    create functions/constructor/main.py');
    expect(Object.keys(stored(dir).functions)).toEqual(['constructor']);
    const again = arpypi(dir, ['function', 'constructor', '--yes']);
    expect(again.stderr).toBe('The function "constructor" exists already (functions/constructor); choose another name.\n');
    const removed = arpypiOk(dir, ['function', 'constructor', '--remove', '--yes']);
    expect(removed.stdout).toContain('    remove triggers/fn-constructor.yaml');
    expect(existsSync(path.join(dir, 'functions/constructor'))).toBe(false);
    expect(stored(dir).functions).toBeUndefined();

    const fresh = generated(['--function', 'constructor']);
    expect(Object.keys(stored(fresh.dir).functions)).toEqual(['constructor']);
    expect(existsSync(path.join(fresh.dir, 'functions/constructor/main.py'))).toBe(true);

    // The other names of Object's prototype are no function names: the rule says so, as a flag and as a key.
    for (const name of ['__proto__', 'toString', 'hasOwnProperty']) {
      const r = arpypi(dir, ['function', name, '--yes']);
      expect(r.stderr).toBe(`The function name "${name}" is not a function name: up to 61 lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit (its trigger is named fn-NAME, and trigger names stop at 64).\n`);
    }
    const rc = read(fresh.dir, '.yo-rc.json').replace('"functions": {', '"functions": {\n      "__proto__": {"memory": "256Mi"},');
    writeFileSync(path.join(fresh.dir, '.yo-rc.json'), rc);
    const keyed = arpypi(fresh.dir, ['--yes']);
    expect(keyed.status).toBe(1);
    expect(keyed.stderr).toMatch(/^"functions" has the key "__proto__" in \.yo-rc\.json, which is not a function name/);
  });

  it('yo arpypi:function constructor adds it, and --remove takes it out', async () => {
    const dir = yoDir('constructor');
    madeByBin(dir, [...ANSWERS, '--yes']);
    const added = await yo(dir, ['arpypi:function', 'constructor', '--yes']);
    expect(added.status, added.stderr).toBe(0);
    expect(Object.keys(stored(dir).functions)).toEqual(['constructor']);
    const removed = await yo(dir, ['arpypi:function', 'constructor', '--remove', '--yes']);
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('Removed the function constructor');
    expect(existsSync(path.join(dir, 'functions/constructor'))).toBe(false);
  });
});

describe('8. renaming the package', () => {
  it('into a folder that exists (a leftover __pycache__), with the user\'s modules, and names the files that import the old name', () => {
    const { dir } = generated();
    writeFileSync(path.join(dir, 'package/src/acme_utils/extra.py'), 'VALUE = 1\n');
    mkdirSync(path.join(dir, 'package/src/acme_tools/__pycache__'), { recursive: true });
    writeFileSync(path.join(dir, 'package/src/acme_tools/__pycache__/extra.cpython-312.pyc'), 'cache\n');
    const init = read(dir, 'package/src/acme_utils/__init__.py');
    const r = arpypiOk(dir, ['--package-name', 'acme-tools', '--yes']);
    expect(r.stdout).toContain('      move package/src/acme_utils -> package/src/acme_tools');
    expect(r.stdout).toContain('Still importing the old import name acme_utils: functions/hello/main.py; change its imports to acme_tools.');
    expect(existsSync(path.join(dir, 'package/src/acme_utils'))).toBe(false);
    expect(read(dir, 'package/src/acme_tools/extra.py')).toBe('VALUE = 1\n');
    expect(read(dir, 'package/src/acme_tools/__init__.py')).toBe(init);
  });

  it('without __init__.py: the modules move, and the deleted sample stays deleted', () => {
    const { dir } = generated();
    rmSync(path.join(dir, 'package/src/acme_utils/__init__.py'));
    writeFileSync(path.join(dir, 'package/src/acme_utils/extra.py'), 'VALUE = 1\n');
    const r = arpypiOk(dir, ['--package-name', 'acme-tools', '--yes']);
    expect(readdirSync(path.join(dir, 'package/src'))).toEqual(['acme_tools']);
    // py.typed, the other sample there, moves with the user's module.
    expect(readdirSync(path.join(dir, 'package/src/acme_tools')).sort()).toEqual(['extra.py', 'py.typed']);
    expect(r.stdout).toContain('Samples you deleted stay deleted: package/src/acme_tools/__init__.py;');
  });

  it('a module that exists in both folders and differs: refused, naming both, nothing written', () => {
    const { outer, dir } = generated();
    writeFileSync(path.join(dir, 'package/src/acme_utils/extra.py'), 'VALUE = 1\n');
    mkdirSync(path.join(dir, 'package/src/acme_tools'));
    writeFileSync(path.join(dir, 'package/src/acme_tools/extra.py'), 'VALUE = 2\n');
    const before = tree(outer);
    const r = arpypi(dir, ['--package-name', 'acme-tools', '--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'Renaming the package moves package/src/acme_utils to package/src/acme_tools, where package/src/acme_tools/extra.py exists already and differs from package/src/acme_utils/extra.py; keep one of the two, then run again. Nothing was written.\n',
    );
    expect(tree(outer)).toEqual(before);
  });
});

describe('10. runtimes follow the Python version', () => {
  it('unless set; a runtime older than requires-python is refused in one sentence, as a flag and when the version rises past it', () => {
    const { dir } = generated();
    arpypiOk(dir, ['--python-version', '3.14', '--yes']);
    expect(read(dir, 'package/pyproject.toml')).toContain('requires-python = ">=3.14"');
    expect(read(dir, 'functions/hello/cloudbuild.yaml')).toContain('--runtime=python314');
    const before = tree(dir);
    const old = arpypi(dir, ['function', 'api', '--runtime', 'python312', '--yes']);
    expect(old.stderr).toBe(
      '--runtime "python312" is older than the package\'s Python 3.14 (requires-python >=3.14), which pip would refuse to install on it; use python314 or newer, or leave the runtime out to follow the Python version.\n',
    );
    expect(tree(dir)).toEqual(before);

    arpypiOk(dir, ['--python-version', '3.12', '--yes']);
    arpypiOk(dir, ['function', 'api', '--runtime', 'python313', '--yes']);
    expect(stored(dir).functions.api.runtime).toBe('python313');
    expect(stored(dir).functions.hello.runtime).toBeUndefined();
    const rising = arpypi(dir, ['--python-version', '3.14', '--yes']);
    expect(rising.stderr).toBe(
      '"functions.api.runtime" in .yo-rc.json "python313" is older than the package\'s Python 3.14 (requires-python >=3.14), which pip would refuse to install on it; use python314 or newer, or leave the runtime out to follow the Python version.\n',
    );
  });
});

describe('11. a first run never replaces a file it did not write', () => {
  it('keeps the user\'s README.md and .gitignore, --force or not, and says where the generated versions are', () => {
    const { dir } = folder();
    writeFileSync(path.join(dir, 'README.md'), '# Our project\n');
    writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n');
    const r = arpypiOk(dir, [...ANSWERS, '--function', 'hello', '--yes', '--force']);
    expect(read(dir, 'README.md')).toBe('# Our project\n');
    expect(read(dir, '.gitignore')).toBe('node_modules/\n');
    expect(r.stdout).toContain('To merge by hand: README.md, .gitignore: kept as you have them, --force or not, since this generator did not write them');
    expect(r.stdout).toContain('the generated versions are in .arpypi/merge/ under the same paths');
    const reference = generated();
    expect(read(dir, '.arpypi/merge/README.md')).toBe(read(reference.dir, 'README.md'));
    expect(read(dir, '.arpypi/merge/.gitignore')).toBe(read(reference.dir, '.gitignore'));
    expect(r.stdout).not.toMatch(/conflict|<<<<<<</);

    const again = arpypiOk(dir, ['--yes', '--force']);
    expect(again.stdout).toContain('To merge by hand: README.md, .gitignore');
    expect(read(dir, 'README.md')).toBe('# Our project\n');
    rmSync(path.join(dir, '.arpypi/merge'), { recursive: true });
    expect(arpypiOk(dir, ['--yes']).stdout).not.toContain('To merge by hand');
  });
});

describe('12. messages', () => {
  it('none, true and false are package names (lower-case, they are no keywords); class is a keyword; Class is an entry point', () => {
    for (const name of ['none', 'true', 'false']) {
      const { dir } = folder();
      arpypiOk(dir, ['--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', name, '--yes']);
      expect(existsSync(path.join(dir, `package/src/${name}/__init__.py`))).toBe(true);
    }
    const { dir } = generated();
    arpypiOk(dir, ['function', 'api', '--entry-point', 'Class', '--yes']);
    expect(read(dir, 'functions/api/main.py')).toContain('def Class(request: flask.Request)');
  });

  it('a standard-library import name is a warning; a branch git refuses is refused', () => {
    const { dir } = folder();
    const json = arpypiOk(dir, ['--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', 'json', '--yes']);
    expect(json.stdout.split('\n')[0]).toBe(
      '--package-name json gives the import name "json", which Python\'s standard library has already: import json would find the standard library\'s module, not your package; consider another name.',
    );
    const other = folder();
    const branch = arpypi(other.dir, [...ANSWERS, '--branch=-rf', '--yes']);
    expect(branch.status).toBe(1);
    expect(branch.stderr).toMatch(/^--branch "-rf" is not a git branch name this generator accepts: .*not starting with "-"/);
    expect(readdirSync(other.dir)).toEqual([]);
  });

  it('a .yo-rc.json nested 8,000 deep, and an unreadable .yo-rc.json or merge base, are one sentence each', () => {
    const { outer, dir } = generated();
    const original = read(dir, '.yo-rc.json');
    writeFileSync(path.join(dir, '.yo-rc.json'), original.replace(/\}\s*$/, `, "other": ${'['.repeat(8000)}${']'.repeat(8000)}}\n`));
    const deep = arpypi(dir, ['--yes']);
    expect(deep.stderr).toBe('.yo-rc.json nests its values more than 100 levels deep, which no generator writes; fix it, or remove it to start over.\n');
    writeFileSync(path.join(dir, '.yo-rc.json'), original);

    handOver(outer);
    for (const file of ['.yo-rc.json', '.arpypi/last-render.json.gz']) {
      chmodSync(path.join(dir, file), 0);
      const r = arpypi(dir, ['--yes'], { uid: 1000 });
      chmodSync(path.join(dir, file), 0o644);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`Could not read ${file}: permission denied (EACCES); nothing was written.\n`);
    }
  });

  it('--remove --dry-run says what it would remove; a first run counts every file it lists', () => {
    const { dir } = folder();
    const first = arpypiOk(dir, [...ANSWERS, '--function', 'hello', '--yes']);
    const listed = first.stdout.split('\n').filter((l) => /^ +create /.test(l)).length;
    expect(first.stdout).toContain(`Done: created ${listed} files.`);
    const before = tree(dir);
    const dry = arpypiOk(dir, ['function', 'hello', '--remove', '--dry-run']);
    expect(dry.stdout).toContain('Would remove the function hello from this repository.');
    expect(dry.stdout).not.toContain('Removed');
    expect(tree(dir)).toEqual(before);
  });
});

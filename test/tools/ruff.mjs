#!/usr/bin/env node
// `ruff check [PATH...]` and `ruff format --check [PATH...]` with ruff's WebAssembly build
// (@astral-sh/ruff-wasm-nodejs, the version constraints.txt pins), for a machine without
// PyPI. Settings: [tool.ruff] of the nearest pyproject.toml, read with Python's tomllib.
// Files: *.py and *.pyi under each PATH, less ruff's default excludes (docs: settings,
// `exclude`) and `extend-exclude`; .gitignore is not read, so generated repositories keep
// what they ignore in `extend-exclude` or in those defaults.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { Workspace, PositionEncoding } = require('@astral-sh/ruff-wasm-nodejs');

const DEFAULT_EXCLUDE = new Set(['.bzr', '.direnv', '.eggs', '.git', '.git-rewrite', '.hg', '.ipynb_checkpoints', '.mypy_cache', '.nox',
  '.pants.d', '.pyenv', '.pytest_cache', '.pytype', '.ruff_cache', '.svn', '.tox', '.venv', '.vscode', '__pypackages__', '_build',
  'buck-out', 'dist', 'node_modules', 'site-packages', 'venv', 'build']);

// [tool.ruff] of each pyproject.toml, read once: a Python process a file would cost more
// than ruff itself.
const tables = new Map();
function ruffTable(file) {
  if (!tables.has(file)) {
    const python = spawnSync(process.env.ARPYPI_TOML_PYTHON ?? 'python3', ['-c', 'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb")).get("tool", {}).get("ruff")))', file], { encoding: 'utf8' });
    if (python.status !== 0) throw new Error(`ruff: cannot read ${file}: ${python.stderr}`);
    tables.set(file, JSON.parse(python.stdout));
  }
  return tables.get(file);
}

function settings(start) {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'pyproject.toml');
    if (existsSync(file)) {
      const ruff = ruffTable(file);
      if (ruff) return { root: dir, options: ruff };
    }
    if (path.dirname(dir) === dir) return { root: start, options: {} };
  }
}

function files(target, exclude) {
  const stat = statSync(target);
  if (stat.isFile()) return [target];
  return readdirSync(target).sort().flatMap((name) => {
    if (DEFAULT_EXCLUDE.has(name) || exclude.has(name)) return [];
    const full = path.join(target, name);
    if (statSync(full).isDirectory()) return files(full, exclude);
    return /\.pyi?$/.test(name) ? [full] : [];
  });
}

const [command, ...rest] = process.argv.slice(2);
if (command === '--version' || command === 'version') {
  console.log(`ruff ${Workspace.version()}`);
  process.exit(0);
}
const check = rest.includes('--check');
const targets = rest.filter((a) => !a.startsWith('-'));
// As ruff does, each file takes the settings of the nearest pyproject.toml with [tool.ruff].
const workspaces = new Map();
function workspaceFor(file) {
  const { root, options } = settings(path.dirname(path.resolve(file)));
  if (!workspaces.has(root)) {
    const { exclude = [], 'extend-exclude': extendExclude = [], ...workspaceOptions } = options;
    workspaces.set(root, { workspace: new Workspace(workspaceOptions, PositionEncoding.Utf8), excluded: new Set([...exclude, ...extendExclude].map((e) => e.replace(/\/$/, ''))) });
  }
  return workspaces.get(root);
}
const list = (targets.length ? targets : ['.']).flatMap((t) => files(t, workspaceFor(path.join(t, 'x.py')).excluded));

if (command === 'check') {
  let found = 0;
  for (const file of list) {
    for (const d of workspaceFor(file).workspace.check(readFileSync(file, 'utf8'))) {
      found += 1;
      console.log(`${file}:${d.start_location.row}:${d.start_location.column}: ${d.code ?? 'syntax-error'} ${d.message}`);
    }
  }
  console.log(found ? `Found ${found} error${found === 1 ? '' : 's'}.` : 'All checks passed!');
  process.exit(found ? 1 : 0);
} else if (command === 'format' && check) {
  const changed = list.filter((file) => {
    const text = readFileSync(file, 'utf8');
    return workspaceFor(file).workspace.format(text) !== text;
  });
  for (const file of changed) console.log(`Would reformat: ${file}`);
  console.log(changed.length ? `${changed.length} file${changed.length === 1 ? '' : 's'} would be reformatted, ${list.length - changed.length} already formatted`
    : `${list.length} file${list.length === 1 ? '' : 's'} already formatted`);
  process.exit(changed.length ? 1 : 0);
} else {
  console.error('ruff (wasm stand-in of the CLI): use `check [PATH...]` or `format --check [PATH...]`');
  process.exit(2);
}

// The Python environment in which the tests run a generated repository's own tools,
// on a machine without PyPI: Debian's python3 with its pytest, Flask, mypy, nox, build
// and twine, plus what Debian 12 lacks, each named with why:
//  - setuptools >= 77 (PEP 639 license expressions; Debian has 66): the setuptools of the
//    Google Cloud CLI's bundled Python (79.0.1 with gcloud 528), with the packaging it
//    vendors (24.2; setuptools 77+ needs >= 24.2), linked into a folder put first on PYTHONPATH;
//  - test/tools/python: twine 4.0.2 taught Metadata-Version 2.4 (sitecustomize.py) and
//    `python -m ruff` (ruff's WebAssembly build from npm, test/tools/ruff.mjs);
//  - test/standins/functions_framework: functions-framework and cloudevents, modelled.
// The pipelines install the real tools at the versions of constraints.txt instead.
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempDir } from './generate.js';
import { gcloudRoot, ok, PYTHON, requirePython } from './tools.js';

export const STANDIN_FRAMEWORK = path.resolve(import.meta.dirname, '../standins/functions_framework');
export const TOOLS_PYTHON = path.resolve(import.meta.dirname, '../tools/python');

let overlay: string | undefined;

/** A folder holding setuptools >= 77 and packaging 24.2 from gcloud's bundled Python, made once per process. */
export function setuptoolsOverlay(): string {
  if (overlay) return overlay;
  const lib = path.join(gcloudRoot(), 'platform/bundledpythonunix/lib');
  const python = existsSync(lib) ? readdirSync(lib).find((d) => /^python3\.\d+$/.test(d)) : undefined;
  const site = python ? path.join(lib, python, 'site-packages') : '';
  const info = site && existsSync(site) ? readdirSync(site).find((d) => /^setuptools-\d+.*\.dist-info$/.test(d)) : undefined;
  const major = Number(info?.match(/^setuptools-(\d+)/)?.[1] ?? 0);
  if (major < 77) {
    throw new Error(`the tests build with setuptools >= 77 (PEP 639) from the Google Cloud CLI's bundled Python, and ${site || lib} has ${info ?? 'none'}; install a current google-cloud-cli`);
  }
  const vendor = path.join(site, 'setuptools/_vendor');
  const packagingInfo = readdirSync(vendor).find((d) => /^packaging-.*\.dist-info$/.test(d))!;
  const dir = path.join(tempDir('setuptools-overlay'), 'site');
  mkdirSync(dir);
  for (const name of [info!, 'setuptools', 'pkg_resources', '_distutils_hack', 'distutils-precedence.pth']) {
    if (existsSync(path.join(site, name))) symlinkSync(path.join(site, name), path.join(dir, name));
  }
  for (const name of ['packaging', packagingInfo]) symlinkSync(path.join(vendor, name), path.join(dir, name));
  overlay = dir;
  return dir;
}

/**
 * PYTHONPATH and friends for running a generated repository's tools with Debian's python3.
 * EXTRA goes after the overlay (e.g. the keyring stand-in's folder).
 */
export function pythonEnv(extra: string[] = []): NodeJS.ProcessEnv {
  requirePython();
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIP_')));
  return {
    ...env,
    PYTHONPATH: [setuptoolsOverlay(), TOOLS_PYTHON, STANDIN_FRAMEWORK, ...extra].join(':'),
    PATH: `${path.join(STANDIN_FRAMEWORK, 'bin')}:${path.dirname(PYTHON)}:${path.dirname(process.execPath)}:${process.env.PATH}`,
    ARPYPI_NODE: process.execPath,
    ARPYPI_TOML_PYTHON: PYTHON,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    MYPY_FORCE_COLOR: '0',
    // One mypy cache for the run: every check of a generated repository analyses the same
    // standard library and stand-ins again otherwise (2-4 s of CPU each). mypy checks each
    // cached module against its source (path, size, hash) and writes its files atomically.
    MYPY_CACHE_DIR: path.join(os.tmpdir(), 'arpypi-mypy-cache'),
    NO_COLOR: '1',
  };
}

/** The stand-in of functions-framework as a wheel (functions-framework 3.10.2), for a stand-in index. */
export function standinFrameworkWheel(): string {
  return ok(PYTHON, [path.join(STANDIN_FRAMEWORK, 'build_standin_wheel.py'), tempDir('ff-wheel')]).stdout.trim();
}

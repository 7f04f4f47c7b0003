// Once per `npm test`, before any test file: a temporary folder for the whole run, removed at
// the end, and gcloud's fork server (gcloud-server/). Vitest starts its workers after this
// runs, so they inherit the environment set here. with-gcloud-server.mjs does the same for a
// command (.ci/run: the stand-ins' own tests). JavaScript, so that node runs it as it is.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SERVER = path.join(import.meta.dirname, 'gcloud-server');

/**
 * A copy of gcloud's install folder whose bin/gcloud is Google's own wrapper script with one
 * change: where it would run `PYTHON [-S] lib/gcloud.py ARGS`, it runs the fork server's
 * client.py with the same Python and flags, which hands the call to a server already past
 * gcloud's imports (or, when it cannot, runs lib/gcloud.py itself). Everything else in the
 * folder links to the real install, so the Python, the modules and the commands are the
 * installed gcloud's. The tests find gcloud's root from the gcloud on PATH, so they find this.
 */
function mirror(sdk, dir, sockets) {
  const root = path.join(dir, 'google-cloud-sdk');
  const original = readFileSync(path.join(sdk, 'bin/gcloud'), 'utf8');
  const last = 'exec "$CLOUDSDK_PYTHON" $CLOUDSDK_PYTHON_ARGS "${CLOUDSDK_ROOT_DIR}/lib/gcloud.py" "$@"';
  if (!original.includes(`\n${last}\n`)) throw new Error(`${sdk}/bin/gcloud no longer ends in the line the tests' copy replaces: ${last}`);
  const bundled = path.join(root, 'platform/bundledpythonunix/bin/python3');
  // The two ways the wrapper runs the bundled Python: with site-packages (its default) or -S
  // (CLOUDSDK_PYTHON given, as the build steps give it). Any other Python runs as it would.
  const handOff = [
    '# The tests\' change: hand the call to the fork server of this Python and these flags.',
    'case "$CLOUDSDK_PYTHON:$CLOUDSDK_PYTHON_ARGS" in',
    `  '${bundled}:'|'${bundled}:-S')`,
    `    exec "$CLOUDSDK_PYTHON" $CLOUDSDK_PYTHON_ARGS '${SERVER}/client.py' "${sockets}/gcloud$CLOUDSDK_PYTHON_ARGS.sock" "\${CLOUDSDK_ROOT_DIR}/lib/gcloud.py" "$@" ;;`,
    'esac',
  ].join('\n');
  sdkWithGcloud(sdk, root, original.replace(`\n${last}\n`, `\n${handOff}\n${last}\n`));
  return root;
}

/**
 * ROOT made a copy of the SDK installed at SDK whose bin/gcloud is GCLOUD (a script's text) and
 * whose every other entry links to the installed one; the tests find gcloud's root from the
 * gcloud on PATH (two folders above the real file). The profile's gcloud shim uses it too.
 */
export function sdkWithGcloud(sdk, root, gcloud) {
  mkdirSync(path.join(root, 'bin'), { recursive: true, mode: 0o755 });
  for (const entry of readdirSync(sdk)) if (entry !== 'bin') symlinkSync(path.join(sdk, entry), path.join(root, entry));
  for (const entry of readdirSync(path.join(sdk, 'bin'))) {
    if (entry !== 'gcloud') symlinkSync(path.join(sdk, 'bin', entry), path.join(root, 'bin', entry));
  }
  writeFileSync(path.join(root, 'bin/gcloud'), gcloud, { mode: 0o755 });
}

/** @param {'' | '-S'} siteFlag @returns {Promise<import('node:child_process').ChildProcess>} */
function startServer(root, socket, siteFlag) {
  const python = path.join(root, 'platform/bundledpythonunix/bin/python3');
  // The environment gcloud's wrapper gives its Python; what gcloud reads from it at import
  // time, each call reads again from its own (server.py).
  const env = {
    PATH: process.env.PATH,
    ...(process.env.ARPYPI_GCLOUD_SERVER_LOG ? { ARPYPI_GCLOUD_SERVER_LOG: process.env.ARPYPI_GCLOUD_SERVER_LOG } : {}),
    HOME: process.env.HOME,
    CLOUDSDK_ROOT_DIR: root,
    CLOUDSDK_CONFIG: path.join(path.dirname(socket), 'config'),
    CLOUDSDK_ENCODING: 'UTF-8',
    PYTHONIOENCODING: 'UTF-8',
    CLOUDSDK_PYTHON_ARGS: siteFlag,
    ...(siteFlag ? {} : { CLOUDSDK_PYTHON_SITEPACKAGES: '1' }),
  };
  const args = [...(siteFlag ? [siteFlag] : []), path.join(SERVER, 'server.py'), socket, root];
  const server = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('exit', (code) => reject(new Error(`gcloud's fork server exited ${code} before it was ready`)));
    server.stdout.once('data', () => {
      server.removeAllListeners('exit');
      server.stdout.destroy();
      resolve(server);
    });
  });
}

/** Sets the run up; returns its teardown. */
export default async function setup() {
  // Every temporary folder of the run goes in one, removed at the end. Other users (the safety
  // tests' yo) make theirs here as well, as in /tmp.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'arpypi-test-'));
  chmodSync(tmp, 0o1777);
  process.env.TMPDIR = tmp;

  const servers = [];
  const found = spawnSync('bash', ['-c', 'command -v gcloud'], { encoding: 'utf8' }).stdout.trim();
  if (found.startsWith('/') && process.env.ARPYPI_TEST_GCLOUD !== 'plain') {
    const sdk = path.dirname(path.dirname(realpathSync(found)));
    const dir = mkdtempSync(path.join(tmp, 'gcloud-'));
    chmodSync(dir, 0o755);
    // The sockets' folder is this user's alone: another user's gcloud cannot connect, and runs as usual.
    const sockets = path.join(dir, 'sockets');
    mkdirSync(sockets, { mode: 0o700 });
    const root = mirror(sdk, dir, sockets);
    servers.push(...(await Promise.all([
      startServer(root, path.join(sockets, 'gcloud.sock'), ''),
      startServer(root, path.join(sockets, 'gcloud-S.sock'), '-S'),
    ])));
    process.env.PATH = `${path.join(root, 'bin')}${path.delimiter}${process.env.PATH}`;
  }

  return () => {
    // Each server and the gcloud calls it forked (its process group).
    for (const server of servers) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  };
}

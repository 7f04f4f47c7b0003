#!/usr/bin/env node
// Runs a command as npm test runs its files: in the run's temporary folder, with gcloud's fork
// server (global-setup.mjs), both gone when it ends. .ci/run runs the stand-ins' own tests so.
//   node test/support/with-gcloud-server.mjs COMMAND [ARGS...]
import { spawnSync } from 'node:child_process';
import setup from './global-setup.mjs';

const teardown = await setup();
const result = spawnSync(process.argv[2], process.argv.slice(3), { stdio: 'inherit' });
teardown();
if (result.error) throw result.error;
process.exit(result.status ?? 1);

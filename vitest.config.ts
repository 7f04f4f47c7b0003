import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

// The files that take longest, longest first (their durations in a whole run, this machine). Vitest
// orders files by the durations of its last run, and with none (a clean clone, CI) by file size:
// the two end-to-end files are a few lines each, so they would start last and finish long after
// the rest. Starting the long poles first lets the short files fill the gaps beside them.
const LONG_POLES = ['python-project', 'e2e-gitlab', 'e2e-github', 'setup-gcp', 'tools', 'rerun', 'interrupts', 'safety', 'doors', 'bad-input', 'records', 'gcloud-server'];

class LongPolesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const index = LONG_POLES.indexOf(path.basename(spec.moduleId, '.test.ts'));
      return index === -1 ? LONG_POLES.length : index;
    };
    const rest = await super.sort(files);
    return [...rest].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One temporary folder for the run, and gcloud's fork server (test/support/gcloud-server).
    globalSetup: ['test/support/global-setup.mjs'],
    // yeoman-test changes the working directory, which worker threads do not allow.
    pool: 'forks',
    // Files that share a worker share its loaded modules (yeoman-test, yaml, the core...) instead
    // of loading them again, some 1.5 s of CPU a file. No file keeps state another could see:
    // none mocks a module, stubs a global or sets process.env; module-level caches hold what
    // does not change during a run (the checked Python, the setuptools overlay, yo's HOME).
    isolate: false,
    // Most test time is spent waiting on gcloud, pip and yo subprocesses: run files side by side.
    maxWorkers: 3,
    sequence: { sequencer: LongPolesFirst },
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});

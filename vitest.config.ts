import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // yeoman-test changes the working directory, which worker threads do not allow.
    pool: 'forks',
    // Most test time is spent waiting on gcloud, pip and yo subprocesses: run files side by side.
    maxWorkers: 3,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});

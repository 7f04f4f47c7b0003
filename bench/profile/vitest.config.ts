// The project's vitest config plus the profile's setup file (bench/profile/suite.mjs uses it).
import path from 'node:path';
import { defineConfig, mergeConfig } from 'vitest/config';
import project from '../../vitest.config.js';

export default mergeConfig(project, defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: { setupFiles: [path.join(import.meta.dirname, 'setup.ts')] },
}));

// Replaces tsc's dist/bin/arpypi.js by one ES module holding the bin, the core, ejs,
// yaml and semver: Node then reads and compiles one file instead of resolving some
// 150 modules, which halves the bin's start-up. Templates stay in templates/, found
// from the package root as before. Run after tsc (npm run build does both).
import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

await build({
  entryPoints: [path.join(root, 'bin/arpypi.ts')],
  outfile: path.join(root, 'dist/bin/arpypi.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Whitespace and syntax only: names stay, so a stack trace still reads.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // ejs, yaml and semver are CommonJS and require Node built-ins, which an ES module can only do through createRequire.
  banner: {
    js: "// Bundled by bin/bundle.mjs from bin/arpypi.ts.\nimport { createRequire as arpypiRequire } from 'node:module'; const require = arpypiRequire(import.meta.url);",
  },
});

// Replaces tsc's dist/bin/arpypi.js by one ES module holding the bin, the core, ejs,
// yaml and semver: Node then reads and compiles one file instead of resolving some
// 150 modules, which halves the bin's start-up. Templates stay in templates/, found
// from the package root as before. Run after tsc (npm run build does both).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const ejs = createRequire(import.meta.url)('ejs');
// render.ts's options, from tsc's output (npm run build runs tsc first).
const { EJS_OPTIONS } = await import('../dist/generators/core/render.js');

/**
 * generators/core/precompiled.ts as the bundle holds it: each template compiled by EJS now, with
 * the options render.ts compiles with, as the source of the function EJS makes of it (EJS's
 * Template, as ejs.compile uses it) and the sha256 of the template.
 */
function precompiled() {
  const templates = path.join(root, 'templates');
  const entries = readdirSync(templates, { recursive: true }).filter((f) => f.endsWith('.ejs')).sort().map((file) => {
    const source = readFileSync(path.join(templates, file), 'utf8');
    // render.ts gives the functions no include(): a template that includes another is compiled at run time.
    if (/\binclude\s*\(/.test(source)) throw new Error(`templates/${file} calls include(), which precompiled templates do not offer`);
    const template = new ejs.Template(source, { ...EJS_OPTIONS, filename: path.join(templates, file) });
    template.compile();
    return [file.split(path.sep).join('/'), { sha256: createHash('sha256').update(source).digest('hex'), body: template.source }];
  });
  return `export const PRECOMPILED = new Map(${JSON.stringify(entries)});\n`;
}

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
  plugins: [{
    name: 'precompiled-templates',
    setup(b) {
      b.onLoad({ filter: /[\\/]generators[\\/]core[\\/]precompiled\.ts$/ }, () => ({ contents: precompiled(), loader: 'js' }));
    },
  }],
  // ejs, yaml and semver are CommonJS and require Node built-ins, which an ES module can only do through createRequire.
  banner: {
    js: "// Bundled by bin/bundle.mjs from bin/arpypi.ts.\nimport { createRequire as arpypiRequire } from 'node:module'; const require = arpypiRequire(import.meta.url);",
  },
});

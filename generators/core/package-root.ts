// The installed package's root, found from this file whether it runs from the
// TypeScript sources or from dist/.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'templates'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`generator-arpypi: no package root above ${start}`);
  }
}

export const packageRoot = findRoot(import.meta.dirname);

export const generatorVersion: string = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).version;

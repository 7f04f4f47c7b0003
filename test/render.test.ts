// The yaml() helper's shortcut for plain words must print exactly what the YAML library
// prints: checked on every such word a generated repository holds, and on words built
// to sit at YAML's edges.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PLAIN_WORD, yaml } from '../dist/generators/core/render.js';
import { COMBOS, generate, listFiles, read } from './support/generate.js';

const library = (value: string) => stringify(value, { lineWidth: 0 }).trimEnd();

describe('yaml() for plain words', () => {
  it('prints what the library prints, for words at YAML\'s edges', () => {
    const edges = [
      'yes', 'No', 'ON', 'off', 'y', 'N', 'true', 'False', 'null', 'Null', 'NULL', 'nan', 'inf', 'e10', 'E1', 'x1e3',
      '--region=us', '--quiet', 'a=b', 'a.b', 'a..b', 'a/', 'a-', 'a_b', 'a@b.c', 'Z9', '--x', '--y=', 'x---y', 'True1',
      'abc:def', 'a#b', 'a b', "a'b", 'a"b', '-a', '.a', '1a', '@a', '=a', '/a', '--1', '---',
    ];
    for (const word of edges) expect(yaml(word), word).toBe(library(word));
    // The shortcut applies to some of them (so this test reaches it) and not to others.
    expect(edges.filter((w) => PLAIN_WORD.test(w)).length).toBeGreaterThan(15);
  });

  it('prints what the library prints, for every plain word in the generated YAML of each combination', async () => {
    const dir = await generate(COMBOS[1]);
    const words = new Set<string>();
    for (const file of listFiles(dir).filter((f) => f.endsWith('.yaml'))) {
      for (const m of read(dir, file).matchAll(/(?:^|[\s:-] )([^\s'"#]+)$/gm)) words.add(m[1]);
    }
    const plain = [...words].filter((w) => PLAIN_WORD.test(w));
    expect(plain.length).toBeGreaterThan(30);
    for (const word of plain) expect(yaml(word), word).toBe(library(word));
  });
});

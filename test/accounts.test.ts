// Service account ids the generator derives from function names: valid for IAM, and
// distinct for distinct names (a runtime account must never be shared by accident).
import { describe, expect, it } from 'vitest';
import { accountIdFor, runtimeAccountId, triggerAccountId } from '../generators/core/model.js';

const VALID = /^[a-z]([-a-z0-9]*[a-z0-9])$/;

describe('account ids for functions', () => {
  it('a and a-run no longer share an account; short and long names get valid ids', () => {
    expect(runtimeAccountId('a')).not.toBe(runtimeAccountId('a-run'));
    expect(runtimeAccountId('hello')).toBe('fn-hello');
    expect(triggerAccountId('hello')).toBe('ev-hello');
    for (const name of ['a', 'ab', 'abc', 'a-run', 'x'.repeat(27), 'x'.repeat(28), `${'a'.repeat(16)}-${'b'.repeat(44)}`]) {
      for (const id of [runtimeAccountId(name), triggerAccountId(name)]) {
        expect(id, name).toMatch(VALID);
        expect(id.length, name).toBeGreaterThanOrEqual(6);
        expect(id.length, name).toBeLessThanOrEqual(30);
      }
    }
  });

  it('distinct names give distinct ids, across every form (plain, padded, shortened) and both prefixes', () => {
    // Names built to meet: plain ids that look like shortened ones, shared long prefixes, every short name.
    const names = new Set<string>();
    const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for (const a of letters.slice(0, 26)) {
      names.add(a);
      for (const b of letters) names.add(a + b);
    }
    const long = 'orders-reporting-pipeline-stage';
    for (let i = 0; i < 2000; i++) names.add(`${long}-${i}`);
    for (const name of [...names].slice(0, 50)) {
      names.add(`h-${name}`);
      names.add(`${name}-run`);
      const shortened = accountIdFor('fn', name);
      if (shortened.startsWith('fnh-')) names.add(shortened.slice(3)); // "h-..." as a plain name
    }
    const ids = new Map<string, string>();
    for (const name of names) {
      for (const id of [runtimeAccountId(name), triggerAccountId(name)]) {
        expect(id).toMatch(VALID);
        expect(id.length).toBeLessThanOrEqual(30);
        expect(ids.get(id) ?? name, `${id} for both ${ids.get(id)} and ${name}`).toBe(name);
        ids.set(id, name);
      }
    }
    expect(ids.size).toBe(names.size * 2);
  });
});

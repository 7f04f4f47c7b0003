import { describe, expect, it } from 'vitest';
import * as rules from '../dist/generators/core/rules.js';

describe('naming rules', () => {
  it.each([
    ['projectId', 'acme-prod', true], ['projectId', 'acme', false], ['projectId', 'Acme-prod', false],
    ['projectId', 'acme-prod-', false], ['projectId', '1acme-prod', false], ['projectId', 'a'.repeat(31), false],
    ['location', 'us-east4', true], ['location', 'us', true], ['location', 'mars1', false], ['location', 'US-EAST4', false],
    ['functionRegion', 'us-east4', true], ['functionRegion', 'us', false],
    ['repositoryId', 'python-packages', true], ['repositoryId', 'Py', false], ['repositoryId', 'py-', false],
    ['repositoryId', 'a'.repeat(64), false],
    ['githubOwner', 'acme-inc', true], ['githubOwner', '-acme', false], ['githubOwner', 'a--b', false],
    ['githubRepo', 'mono.repo', true], ['githubRepo', 'x.git', false], ['githubRepo', '..', false],
    ['packageName', 'Acme.Utils', true], ['packageName', '2fast', false], ['packageName', 'bad name', false],
    ['packageName', 'class', false],
    ['functionName', 'hello-world', true], ['functionName', 'Hello', false], ['functionName', 'hello_world', false],
    ['functionName', 'a'.repeat(62), false],
    ['pythonVersion', '3.12', true], ['pythonVersion', '3.10', true], ['pythonVersion', '3.9', false], ['pythonVersion', '3.15', false],
    ['runtime', 'python313', true], ['runtime', 'python39', false], ['runtime', 'nodejs20', false],
    ['memory', '256Mi', true], ['memory', '64Mi', false], ['memory', '256', false], ['memory', '33Gi', false],
    ['timeout', '60s', true], ['timeout', '3601s', false], ['timeout', '60', false],
    ['entryPoint', 'handler', true], ['entryPoint', 'def', false], ['entryPoint', '1x', false],
    ['branch', 'release/v1', true], ['branch', 'a..b', false], ['branch', 'a b', false],
  ] as const)('%s(%j) accepts: %s', (rule, value, accepted) => {
    const check = rules[rule] as (v: string) => string | null;
    expect(check(value) === null).toBe(accepted);
  });

  it('derives the import, PEP 503 and runtime names', () => {
    expect(rules.importName('Acme.Utils-x')).toBe('acme_utils_x');
    expect(rules.normalizedName('Acme.Utils__x')).toBe('acme-utils-x');
    expect(rules.runtimeFor('3.13')).toBe('python313');
  });
});

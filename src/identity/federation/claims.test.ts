import { describe, expect, it } from 'vitest';
import { claimAt, conditionsHold, conditionsProblem, firstMiss, matchesPattern } from './claims.js';

describe('claim globs', () => {
  it('matches * within a path segment, ** across, ? one character, the rest literally', () => {
    expect(matchesPattern('refs/heads/main', 'refs/heads/*')).toBe(true);
    expect(matchesPattern('refs/heads/feature/x', 'refs/heads/*')).toBe(false);
    expect(matchesPattern('refs/heads/feature/x', 'refs/heads/**')).toBe(true);
    expect(matchesPattern('v1', 'v?')).toBe(true);
    expect(matchesPattern('v/', 'v?')).toBe(false);
    expect(matchesPattern('a.c', 'a.c')).toBe(true);
    expect(matchesPattern('abc', 'a.c')).toBe(false);
    expect(matchesPattern('org/app(1)', 'org/app(*)')).toBe(true);
  });

  it('answers a pathological value at once (regression: a backtracking RegExp froze the server)', () => {
    const value = `refs/heads/hotfix-${'-'.repeat(5000)}/`;
    // Only that this returns (and false) matters; the old matcher took tens of seconds at 230 dashes.
    expect(matchesPattern(value, 'refs/heads/hotfix-*-*-*-*-*')).toBe(false);
    expect(matchesPattern(`${value}x`, '**-*-*-*-*-**x')).toBe(true);
  });
});

describe('claim paths', () => {
  it('reads nested claims whose keys contain dots', () => {
    expect(claimAt({ 'kubernetes.io': { namespace: 'ci' } }, 'kubernetes.io.namespace')).toBe('ci');
    expect(claimAt({ a: { b: 1 } }, 'a.b')).toBe(1);
  });

  it('treats a path the token lets be read two ways as absent (regression: a literal dotted key shadowed the nested claim)', () => {
    const token = { 'kubernetes.io': { namespace: 'evil' }, 'kubernetes.io.namespace': 'mirror' };
    expect(claimAt(token, 'kubernetes.io.namespace')).toBeUndefined();
    expect(conditionsHold({ 'kubernetes.io.namespace': 'mirror' }, token)).toBe(false);
  });

  it('compares numbers and booleans as strings, and any element of a list', () => {
    expect(conditionsHold({ repository_id: '42', ref_protected: 'true' }, { repository_id: 42, ref_protected: true })).toBe(true);
    expect(conditionsHold({ groups: 'ops' }, { groups: ['dev', 'ops'] })).toBe(true);
    expect(firstMiss({ groups: 'ops', ref: 'main' }, { ref: 'main' })).toBe('claim "groups" is missing');
  });
});

describe('conditions a rule may not have', () => {
  it('refuses conditions that do not identify a workload (regression: aud=…, sub=**/** were accepted)', () => {
    expect(conditionsProblem({ aud: 'https://registry.test' })).toMatch(/says nothing about who is asking/);
    expect(conditionsProblem({ iss: 'https://x' })).toMatch(/says nothing/);
    expect(conditionsProblem({ sub: '**/**' })).toMatch(/matches anything/);
    expect(conditionsProblem({ sub: '?**' })).toMatch(/matches anything/);
    expect(conditionsProblem({ __proto__: 'x' } as never)).toBeDefined();
    expect(conditionsProblem({ 'a.constructor': 'x' })).toMatch(/not a claim name/);
    expect(conditionsProblem({ repository_id: '1' })).toBeUndefined();
  });
});

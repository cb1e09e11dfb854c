import { describe, expect, it } from 'vitest';
import { environmentMixing, isProduction } from './environments.js';

const labels: Record<string, string | null> = { app: 'prod', ci: 'build', qa: 'test', misc: null, live: 'Production' };
const labelOf = (n: string) => labels[n] ?? null;

describe('environment separation', () => {
  it('knows production labels', () => {
    expect(['prod', 'Production', 'PROD'].map(isProduction)).toEqual([true, true, true]);
    expect(['build', 'test', 'preprod'].map(isProduction)).toEqual([false, false, false]);
    expect(isProduction(null)).toBe(false);
  });

  it('allows bindings within one side', () => {
    expect(environmentMixing(['app', 'live'], labelOf)).toBeUndefined();
    expect(environmentMixing(['ci', 'qa', 'misc'], labelOf)).toBeUndefined();
  });

  it('names both sides when a set mixes them', () => {
    expect(environmentMixing(['app', 'ci'], labelOf)).toBe(
      'would reach production (app) and non-production (ci) namespaces',
    );
    expect(environmentMixing(['misc', 'live'], labelOf)).toMatch(/production \(live\)/);
  });

  it("leaves the administrators' root namespace out", () => {
    expect(environmentMixing(['*'], labelOf)).toBeUndefined();
    expect(environmentMixing(['*', 'app'], labelOf)).toBeUndefined();
  });

  it('counts the namespaces nested under a binding (regression: writer on team reached prod team/release)', () => {
    const nested: Record<string, string | null> = { team: 'build', 'team/release': 'prod' };
    const of = (n: string) => nested[n] ?? null;
    expect(environmentMixing(['team'], of, ['team', 'team/release'])).toBe(
      'would reach production (team/release) and non-production (team) namespaces',
    );
    expect(environmentMixing(['team/release'], of, ['team', 'team/release'])).toBeUndefined();
  });
});

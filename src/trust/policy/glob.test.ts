import { describe, expect, it } from 'vitest';
import { globMatch } from './glob.js';

describe('globMatch', () => {
  it.each([
    ['v*', 'v1.2.3', true],
    ['v*', 'latest', false],
    ['release-?', 'release-1', true],
    ['release-?', 'release-12', false],
    ['https://github.com/acme/*/.github/workflows/*.yml@refs/tags/*', 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1', true],
    ['https://github.com/acme/*', 'https://github.com/evil/acme/x', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['*', '', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
  ])('%s against %s is %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });

  it('answers a hostile pattern against a long value (no exponential backtracking)', () => {
    expect(globMatch(`${'*a'.repeat(50)}b`, 'a'.repeat(5000))).toBe(false);
  });
});

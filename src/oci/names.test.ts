import { describe, expect, it } from 'vitest';
import { inNamespace, isRepositoryName, isTag } from './names.js';

describe('repository names', () => {
  it.each(['a', 'team/app', 'a.b_c__d-e--f/g', 'team/blobs/manifests', '0/1'])('accepts %s', (name) => {
    expect(isRepositoryName(name)).toBe(true);
  });

  it.each(['', 'Team/app', 'a//b', '/a', 'a/', '-a', 'a-', 'a___b', 'a/../b', 'a b', `${'a'.repeat(256)}`])(
    'refuses %j',
    (name) => {
      expect(isRepositoryName(name)).toBe(false);
    },
  );
});

describe('tags', () => {
  it('accepts up to 128 word characters, dots and dashes not leading', () => {
    expect(isTag('v1.2.3-rc_1')).toBe(true);
    expect(isTag('_x')).toBe(true);
    expect(isTag('a'.repeat(128))).toBe(true);
    expect(isTag('a'.repeat(129))).toBe(false);
    expect(isTag('.x')).toBe(false);
    expect(isTag('-x')).toBe(false);
    expect(isTag('a:b')).toBe(false);
  });
});

describe('namespaces', () => {
  it('contain whole path prefixes only', () => {
    expect(inNamespace('team/app', 'team')).toBe(true);
    expect(inNamespace('team', 'team')).toBe(true);
    expect(inNamespace('teams/app', 'team')).toBe(false);
    expect(inNamespace('x/y', '*')).toBe(true);
  });
});

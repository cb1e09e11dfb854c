import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newPkce, verifierMatches } from './pkce.js';
import { Sealer } from './sealed.js';

describe('Sealer', () => {
  const secret = randomBytes(32);

  it('opens what it sealed until it expires', () => {
    const sealer = new Sealer(secret, 'test');
    const sealed = sealer.seal({ a: 1 }, 1000, 0);
    expect(sealer.open(sealed, 999)).toEqual({ a: 1 });
    expect(sealer.open(sealed, 1000)).toBeUndefined();
  });

  it('refuses a changed value, another purpose and another secret', () => {
    const sealed = new Sealer(secret, 'test').seal({ a: 1 }, 60_000);
    const flipped = `${sealed.slice(0, 30)}${sealed[30] === 'A' ? 'B' : 'A'}${sealed.slice(31)}`;
    expect(new Sealer(secret, 'test').open(flipped)).toBeUndefined();
    expect(new Sealer(secret, 'other').open(sealed)).toBeUndefined();
    expect(new Sealer(randomBytes(32), 'test').open(sealed)).toBeUndefined();
    expect(new Sealer(secret, 'test').open('not sealed at all')).toBeUndefined();
  });
});

describe('PKCE', () => {
  it('matches a verifier to its S256 challenge only', () => {
    const one = newPkce();
    expect(verifierMatches(one.verifier, one.challenge)).toBe(true);
    expect(verifierMatches(newPkce().verifier, one.challenge)).toBe(false);
    expect(verifierMatches(one.challenge, one.challenge)).toBe(false);
    expect(verifierMatches('short', one.challenge)).toBe(false);
  });
});

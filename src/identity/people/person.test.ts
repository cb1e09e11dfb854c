import { describe, expect, it } from 'vitest';
import { oidcLoginSchema } from '../../config/schema.js';
import { identityOf } from './person.js';

const config = oidcLoginSchema.parse({ issuer: 'https://idp.example.test', clientId: 'portcullis' });

describe('identityOf', () => {
  it('takes the name from the configured claim, lower-cased, and the subject from iss and sub', () => {
    expect(identityOf({ sub: 's1', preferred_username: 'Alice', groups: ['b', 'a', 'a'] }, config)).toEqual({
      subject: 'https://idp.example.test|s1',
      name: 'alice',
      groups: ['a', 'b'],
    });
  });

  it('falls back to email, then sub, when the claim is missing or not a user name', () => {
    expect(identityOf({ sub: 's1', preferred_username: 'Alice Smith', email: 'alice.smith' }, config).name).toBe('alice.smith');
    expect(identityOf({ sub: 'user-42', email: 'alice@example.test' }, config).name).toBe('user-42');
  });

  it('refuses when no claim is a valid user name', () => {
    expect(() => identityOf({ sub: 'auth0|123', email: 'a@b.test' }, config)).toThrow(/none of the claims preferred_username, email, sub is a valid user name/);
  });

  it('reads one group given as a string, ignores malformed groups and treats a missing claim as none', () => {
    expect(identityOf({ sub: 's', groups: 'team-a' }, config).groups).toEqual(['team-a']);
    expect(identityOf({ sub: 's', groups: ['ok', '/leading-slash', '', 7, 'a b'] }, config).groups).toEqual(['ok']);
    expect(identityOf({ sub: 's' }, config).groups).toEqual([]);
  });

  it('refuses a name that only lower-cases to ASCII (regression: the Kelvin sign claimed "kelvin")', () => {
    expect(identityOf({ sub: 'k-1', preferred_username: '\u212Aelvin' }, config).name).toBe('k-1');
  });

  it('refuses a sub that is not a string (regression: {a:1} and {b:2} became one person)', () => {
    expect(() => identityOf({ sub: { a: 1 } as unknown as string, preferred_username: 'eve' }, config)).toThrow(/"sub" is not a string/);
    expect(() => identityOf({ sub: 123 as unknown as string, preferred_username: 'eve' }, config)).toThrow(/"sub" is not a string/);
  });
});

import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyIdToken } from './id-token.js';

const ISSUER = 'https://idp.example.test';
const expected = { issuer: ISSUER, clientId: 'portcullis', nonce: 'the-nonce' };

describe('verifyIdToken', () => {
  let sign: (claims: JWTPayload, alg?: string) => Promise<string>;
  let keys: ReturnType<typeof createLocalJWKSet>;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    const now = Math.floor(Date.now() / 1000);
    sign = (claims) =>
      new SignJWT({ iss: ISSUER, aud: 'portcullis', sub: 'u1', nonce: 'the-nonce', iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .sign(privateKey);
  });

  it('accepts a token for this client with this nonce', async () => {
    await expect(verifyIdToken(await sign({}), keys, expected)).resolves.toMatchObject({ sub: 'u1' });
    await expect(verifyIdToken(await sign({ aud: ['portcullis', 'other'], azp: 'portcullis' }), keys, expected)).resolves.toBeDefined();
  });

  const refusals: Array<[string, JWTPayload, RegExp]> = [
    ['another audience', { aud: 'other-app' }, /issued for another client \(aud\)/],
    ['several audiences without azp', { aud: ['portcullis', 'other'] }, /another client \(azp\)/],
    ['another authorized party', { azp: 'other-app' }, /another client \(azp\)/],
    ['a wrong nonce', { nonce: 'replayed' }, /does not carry the nonce/],
    ['no nonce', { nonce: undefined }, /does not carry the nonce/],
    ['another issuer', { iss: 'https://evil.example.test' }, /names another issuer/],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 600 }, /has expired/],
  ];
  for (const [what, claims, reason] of refusals) {
    it(`refuses ${what}`, async () => {
      await expect(verifyIdToken(await sign(claims), keys, expected)).rejects.toThrow(reason);
    });
  }

  it('refuses HMAC and unsigned tokens', async () => {
    const hmac = await new SignJWT({ iss: ISSUER, aud: 'portcullis', sub: 'u1', nonce: 'the-nonce' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('portcullis-client-secret-32-bytes!!'));
    await expect(verifyIdToken(hmac, keys, expected)).rejects.toThrow(/algorithm is not accepted/);
    const [, payload] = hmac.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    await expect(verifyIdToken(none, keys, expected)).rejects.toThrow(/sign-in refused/);
  });
});

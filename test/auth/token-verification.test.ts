import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, type Account } from './support/accounts.js';
import {
  claimsFor,
  foreignKey,
  hmacToken,
  readSigningKey,
  signEs256,
  unsignedToken,
  withPayload,
  type RealKey,
} from './support/forge.js';
import { bearerChallenge, call, decodeJwt, tokenFor } from './support/http.js';

const PULL = 'repository:team/app:pull';
const ADMIN_ACCESS = [
  { type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] },
];

describe('bearer token verification at /v2/', () => {
  let registry: TestRegistry;
  let key: RealKey;
  let adminPrincipal: string;
  let reader: Account;
  beforeAll(async () => {
    registry = await startRegistry();
    await new RegistryClient(registry.url, 'admin', registry.adminPassword).pushImage(
      'team/app',
      'v1',
    );
    key = await readSigningKey(registry);
    const adminToken = await tokenFor(
      registry,
      { name: 'admin', password: registry.adminPassword },
      [PULL],
    );
    adminPrincipal = String(decodeJwt(adminToken).payload.sub);
    reader = await addUser(registry, 'reader', [['team', 'reader']]);
  });
  afterAll(() => registry.close());

  /** Expects 401 invalid_token; `scope` null means the route names no scope (GET /v2/). */
  const expectInvalid = async (
    token: string,
    path = '/v2/team/app/manifests/v1',
    scope: string | null = PULL,
  ) => {
    const res = await call(registry, path, { token });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge(registry, scope ?? undefined, 'invalid_token'),
    );
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
      'UNAUTHORIZED',
    );
  };

  it('accepts a token it issued (control)', async () => {
    const token = await tokenFor(registry, { name: 'admin', password: registry.adminPassword }, [
      PULL,
    ]);
    const res = await call(registry, '/v2/team/app/manifests/v1', { token });

    expect(res.status).toBe(200);
  });

  it('accepts a correctly signed token that expired less than the 60 s leeway ago', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signEs256(
      claimsFor(adminPrincipal, ADMIN_ACCESS, { iat: now - 330, nbf: now - 330, exp: now - 30 }),
      key.privateKey,
      {
        kid: key.kid,
        typ: 'JWT',
      },
    );

    expect((await call(registry, '/v2/team/app/manifests/v1', { token })).status).toBe(200);
  });

  it('refuses a correctly signed token that expired beyond the leeway', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = claimsFor(adminPrincipal, ADMIN_ACCESS, {
      iat: now - 400,
      nbf: now - 400,
      exp: now - 100,
    });

    await expectInvalid(await signEs256(claims, key.privateKey, { kid: key.kid, typ: 'JWT' }));
    await expectInvalid(
      await signEs256(claims, key.privateKey, { kid: key.kid, typ: 'JWT' }),
      '/v2/',
      null,
    );
  });

  it('refuses a correctly signed token that is not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = claimsFor(adminPrincipal, ADMIN_ACCESS, {
      iat: now,
      nbf: now + 600,
      exp: now + 900,
    });

    await expectInvalid(await signEs256(claims, key.privateKey, { kid: key.kid, typ: 'JWT' }));
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const token = await tokenFor(registry, reader, ['repository:team/app:pull,push,delete']);
    const { payload } = decodeJwt(token);
    expect(payload.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    const tampered = withPayload(token, { ...payload, access: ADMIN_ACCESS });

    await expectInvalid(tampered, '/v2/team/app/blobs/uploads/', 'repository:team/app:pull,push');
    const res = await call(registry, '/v2/team/app/blobs/uploads/', {
      method: 'POST',
      token: tampered,
    });
    expect(res.status).toBe(401);
  });

  it('refuses an unsigned token (alg none)', async () => {
    await expectInvalid(unsignedToken(claimsFor(adminPrincipal, ADMIN_ACCESS), key.kid));
  });

  it('refuses an HS256 token keyed with the public key', async () => {
    const claims = claimsFor(adminPrincipal, ADMIN_ACCESS);
    const pem = createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });

    await expectInvalid(hmacToken(claims, key.kid, pem));
    await expectInvalid(hmacToken(claims, key.kid, JSON.stringify(key.publicJwk)));
  });

  it('refuses a token signed by another key that claims the same kid', async () => {
    const token = await signEs256(claimsFor(adminPrincipal, ADMIN_ACCESS), await foreignKey(), {
      kid: key.kid,
      typ: 'JWT',
    });

    await expectInvalid(token);
  });

  it.each([
    ['another audience', { aud: 'other-registry' }],
    ['an audience list without this registry', { aud: ['other-registry'] }],
    ['another issuer', { iss: 'someone-else' }],
    ['no expiry', { exp: undefined }],
    ['no subject', { sub: undefined }],
    ['no jti', { jti: undefined }],
    ['an access claim that is not a list', { access: { type: 'repository' } }],
  ])('refuses a correctly signed token with %s', async (_what, overrides) => {
    const token = await signEs256(
      claimsFor(adminPrincipal, ADMIN_ACCESS, overrides),
      key.privateKey,
      { kid: key.kid, typ: 'JWT' },
    );

    await expectInvalid(token);
  });

  it('refuses a correctly signed token without typ JWT', async () => {
    await expectInvalid(
      await signEs256(claimsFor(adminPrincipal, ADMIN_ACCESS), key.privateKey, { kid: key.kid }),
    );
  });

  it('refuses a correctly signed token for a principal that does not exist', async () => {
    const token = await signEs256(
      claimsFor('user:00000000-0000-0000-0000-000000000000', ADMIN_ACCESS),
      key.privateKey,
      {
        kid: key.kid,
        typ: 'JWT',
      },
    );

    await expectInvalid(token);
  });

  it.each([['garbage'], ['a.b.c'], ['eyJhbGciOiJFUzI1NiJ9..'], ['x'.repeat(4000)]])(
    'refuses the bearer value %#',
    async (token) => {
      await expectInvalid(token);
    },
  );
});

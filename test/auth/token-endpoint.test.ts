import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, setDisabled, type Account } from './support/accounts.js';
import { decodeJwt, postToken, requestToken } from './support/http.js';

interface TokenBody {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  scope?: string;
}

describe('GET /token', () => {
  let registry: TestRegistry;
  let alice: Account;
  let bob: Account;
  beforeAll(async () => {
    registry = await startRegistry();
    alice = await addUser(registry, 'alice', [['team', 'writer']]);
    bob = await addUser(registry, 'bob', [['team', 'reader']]);
    await setDisabled(registry, bob, true);
  });
  afterAll(() => registry.close());

  it('refuses a wrong password with 401', async () => {
    const res = await requestToken(registry, { name: 'alice', password: 'wrong-password-123' }, []);

    expect(res.status).toBe(401);
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
      'UNAUTHORIZED',
    );
  });

  it('answers an unknown user exactly like a wrong password', async () => {
    const wrong = await requestToken(registry, { name: 'alice', password: 'wrong-password-123' }, [
      'repository:team/app:pull',
    ]);
    const unknown = await requestToken(
      registry,
      { name: 'nobody', password: 'wrong-password-123' },
      ['repository:team/app:pull'],
    );
    const disabled = await requestToken(registry, bob, ['repository:team/app:pull']);

    for (const res of [unknown, disabled]) {
      expect(res.status).toBe(wrong.status);
      expect(res.headers.get('www-authenticate')).toBe(wrong.headers.get('www-authenticate'));
    }
    const bodies = await Promise.all([wrong, unknown, disabled].map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a Basic value that is not base64', 'Basic !!!***'],
    ['a Basic value without a colon', `Basic ${Buffer.from('alice').toString('base64')}`],
    ['an empty Basic value', 'Basic '],
    ['a Bearer value', 'Bearer abc.def.ghi'],
  ])('refuses %s with 401', async (_what, header) => {
    const res = await fetch(
      `${registry.url}/token?service=portcullis&scope=repository:team/app:pull`,
      {
        headers: header === undefined ? {} : { Authorization: header },
      },
    );

    expect(res.status).toBe(401);
  });

  it('keys the one-minute success cache by password: a wrong one right after a good login fails', async () => {
    expect((await requestToken(registry, alice, [])).status).toBe(200);
    expect(
      (await requestToken(registry, { ...alice, password: `${alice.password}x` }, [])).status,
    ).toBe(401);
    expect(
      (await requestToken(registry, { ...alice, password: alice.password.slice(0, -1) }, []))
        .status,
    ).toBe(401);
    expect(
      (await requestToken(registry, { name: 'bob', password: alice.password }, [])).status,
    ).toBe(401);
    expect((await requestToken(registry, alice, [])).status).toBe(200);
  });

  it('issues a token with token, access_token, expires_in 300 and issued_at', async () => {
    const before = Date.now();
    const res = await requestToken(registry, alice, ['repository:team/app:pull']);

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as TokenBody;
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBe(300);
    const issued = Date.parse(body.issued_at);
    expect(issued).toBeGreaterThanOrEqual(before - 1000);
    expect(issued).toBeLessThanOrEqual(Date.now() + 1000);
    expect(body.refresh_token).toBeUndefined();
  });

  it('grants the intersection of what was asked and what the bindings allow', async () => {
    const res = await requestToken(registry, alice, [
      'repository:team/app:pull,push,delete',
      'repository:other/app:pull',
      'repository:team/tools/cli:pull',
    ]);
    const { payload } = decodeJwt(((await res.json()) as TokenBody).token);

    expect(payload.access).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'team/tools/cli', actions: ['pull'] },
    ]);
  });

  it('issues a token without access when no scope is asked (docker login)', async () => {
    const res = await requestToken(registry, alice, []);
    const { payload } = decodeJwt(((await res.json()) as TokenBody).token);

    expect(payload.access).toEqual([]);
  });

  it('adds a refresh token when offline_token=true', async () => {
    const res = await requestToken(registry, alice, [], {
      offline_token: 'true',
      client_id: 'docker',
      account: 'alice',
    });
    const body = (await res.json()) as TokenBody;

    expect(res.status).toBe(200);
    expect(body.refresh_token).toMatch(/^pcr_[A-Za-z0-9_-]{43}$/);
  });

  it('refuses an unknown service with 400', async () => {
    const res = await fetch(
      `${registry.url}/token?service=elsewhere&scope=repository:team/app:pull`,
      {
        headers: {
          Authorization: `Basic ${Buffer.from(`alice:${alice.password}`).toString('base64')}`,
        },
      },
    );

    expect(res.status).toBe(400);
  });

  it('publishes the signing key at /token/jwks, and the token verifies against it', async () => {
    const res = await requestToken(registry, alice, ['repository:team/app:pull']);
    const { token } = (await res.json()) as TokenBody;
    const jwks = (await (await fetch(`${registry.url}/token/jwks`)).json()) as JSONWebKeySet;
    const { header, payload } = decodeJwt(token);

    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
    const verified = await jwtVerify(token, createLocalJWKSet(jwks), {
      audience: 'portcullis',
      issuer: 'portcullis',
    });
    expect(verified.protectedHeader).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    expect(payload.aud).toBe('portcullis');
    expect(payload.iss).toBe('portcullis');
    expect(payload.sub).toBe(alice.principal);
    expect(typeof payload.jti).toBe('string');
    expect(Number(payload.exp) - Number(payload.iat)).toBe(300);
  });
});

describe('POST /token', () => {
  let registry: TestRegistry;
  let alice: Account;
  let carol: Account;
  beforeAll(async () => {
    registry = await startRegistry();
    alice = await addUser(registry, 'alice', [['team', 'writer']]);
    carol = await addUser(registry, 'carol', [['team', 'reader']]);
  });
  afterAll(() => registry.close());

  const passwordGrant = (who: Account, extra: Record<string, string> = {}) =>
    postToken(registry, {
      grant_type: 'password',
      service: 'portcullis',
      client_id: 'containerd-client',
      username: who.name,
      password: who.password,
      ...extra,
    });

  it('grants a password with one space-separated scope parameter and echoes the granted scope', async () => {
    const res = await passwordGrant(alice, {
      scope: 'repository:team/app:pull,push,delete repository:other/x:pull',
    });
    const body = (await res.json()) as TokenBody;

    expect(res.status).toBe(200);
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(body.scope).toBe('repository:team/app:pull,push');
    expect(decodeJwt(body.access_token).payload.access).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
    ]);
  });

  it('refuses a wrong password with 401', async () => {
    const res = await passwordGrant({ ...alice, password: 'not-the-password' });

    expect(res.status).toBe(401);
  });

  it('trades a refresh token for an access token', async () => {
    const first = (await (
      await passwordGrant(alice, { access_type: 'offline' })
    ).json()) as TokenBody;
    expect(first.refresh_token).toMatch(/^pcr_/);

    const res = await postToken(registry, {
      grant_type: 'refresh_token',
      service: 'portcullis',
      client_id: 'docker',
      refresh_token: first.refresh_token!,
      scope: 'repository:team/app:pull',
    });
    const body = (await res.json()) as TokenBody;

    expect(res.status).toBe(200);
    expect(body.scope).toBe('repository:team/app:pull');
    expect(decodeJwt(body.access_token).payload.sub).toBe(alice.principal);
  });

  it('refuses a refresh token that was never issued', async () => {
    const res = await postToken(registry, {
      grant_type: 'refresh_token',
      service: 'portcullis',
      client_id: 'docker',
      refresh_token: `pcr_${'A'.repeat(43)}`,
    });

    expect(res.status).toBe(401);
  });

  it('refuses the refresh token of a user who has been disabled', async () => {
    const first = (await (
      await passwordGrant(carol, { access_type: 'offline' })
    ).json()) as TokenBody;
    await setDisabled(registry, carol, true);

    const res = await postToken(registry, {
      grant_type: 'refresh_token',
      service: 'portcullis',
      client_id: 'docker',
      refresh_token: first.refresh_token!,
    });

    expect(res.status).toBe(401);
    await setDisabled(registry, carol, false);
  });

  it.each([['authorization_code'], ['client_credentials'], ['']])(
    'refuses grant_type=%j with 400',
    async (grant) => {
      const res = await postToken(registry, {
        grant_type: grant,
        service: 'portcullis',
        client_id: 'x',
      });

      expect(res.status).toBe(400);
    },
  );

  it('refuses an unknown service with 400', async () => {
    const res = await passwordGrant(alice, { service: 'elsewhere' });

    expect(res.status).toBe(400);
  });
});

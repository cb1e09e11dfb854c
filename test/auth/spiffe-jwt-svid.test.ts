import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { withStore } from './support/accounts.js';
import { bearerChallenge, call, decodeJwt, postToken } from './support/http.js';
import { bundle, Pki, signSvid, svidKey, type SvidKey } from './support/spiffe.js';

const BUILDER = 'spiffe://example.org/ci/builder';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

interface TokenBody {
  token: string;
  access_token: string;
  expires_in: number;
  scope?: string;
  issued_token_type?: string;
  token_type?: string;
}

/** A YAML configuration trusting one SPIFFE trust domain; refusals must not trip the throttle. */
function configYaml(issuer: { alias: string; domain: string; bundle: string }): string {
  const source = issuer.bundle.startsWith('http') ? `jwksUri: ${issuer.bundle}` : `jwksFile: ${issuer.bundle}`;

  return [
    'auth:',
    '  throttle: { addressFailures: 1000 }',
    'federation:',
    '  keyRefetchSeconds: 1',
    '  issuers:',
    `    - { alias: ${issuer.alias}, kind: spiffe, issuer: ${issuer.domain}, audiences: [portcullis], ${source} }`,
    '',
  ].join('\n');
}

/** GET /token for `scopes` with the given Authorization header. */
function tokenRequest(registry: TestRegistry, authorization: string, scopes: string[]): Promise<Response> {
  const query = new URLSearchParams({ service: 'portcullis' });
  for (const scope of scopes) query.append('scope', scope);

  return fetch(`${registry.url}/token?${query}`, { headers: { Authorization: authorization } });
}

/** The RegistryClient, but with a bearer token obtained elsewhere instead of a password. */
class BearerClient extends RegistryClient {
  constructor(
    base: string,
    private readonly bearer: string,
  ) {
    super(base, '', '');
  }

  override async token(): Promise<string> {
    return this.bearer;
  }
}

/** The exact 401 body of a refused federated credential. */
function refusal(description: string) {
  const message = `federated credential refused: ${description}`;

  return { errors: [{ code: 'UNAUTHORIZED', message }], error: 'invalid_grant', error_description: message };
}

describe('JWT-SVIDs at /token', () => {
  let pki: Pki;
  let registry: TestRegistry;
  let key: SvidKey;
  let stranger: SvidKey;
  beforeAll(async () => {
    pki = await Pki.create();
    key = await svidKey();
    stranger = await svidKey('not-in-the-bundle');
    await pki.write('bundle.json', bundle([key]));
    const configFile = await pki.write('portcullis.yaml', configYaml({ alias: 'mesh', domain: 'example.org', bundle: 'bundle.json' }));
    registry = await startRegistry({ configFile });
    await withStore(registry, async (store) => {
      await store.principals.createNamespace('ci', null);
      await store.principals.createNamespace('other', null);
      await store.federation.addRule({
        name: 'builders',
        issuerAlias: 'mesh',
        conditions: { sub: 'spiffe://example.org/ci/*' },
        grants: [{ namespace: 'ci', role: 'writer' }],
        mixedEnvironments: false,
      });
    });
  });
  afterAll(async () => {
    await registry?.close();
    await pki?.remove();
  });

  it('trades a valid JWT-SVID for a registry token naming the rule and the workload', async () => {
    const svid = await signSvid(key, { sub: BUILDER });
    const res = await tokenRequest(registry, `Bearer ${svid}`, ['repository:ci/app:pull,push,delete', 'repository:other/app:pull']);

    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as TokenBody;
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBeGreaterThan(0);
    expect(body.expires_in).toBeLessThanOrEqual(300);
    const { payload } = decodeJwt(body.token);
    expect(payload.fed).toEqual({ issuer: 'spiffe://example.org', subject: BUILDER, rule: 'builders' });
    expect(payload.name).toBe('rule+builders');
    expect(payload.sub).toMatch(/^rule:[0-9a-f-]{36}$/);
    expect(Number(payload.exp) - Number(payload.iat)).toBe(body.expires_in);
    // writer on ci: pull and push, no delete; nothing on other.
    expect(payload.access).toEqual([{ type: 'repository', name: 'ci/app', actions: ['pull', 'push'] }]);
  });

  it('issues a token that pushes and lists tags in the bound namespace, and nowhere else', async () => {
    const svid = await signSvid(key, { sub: BUILDER });
    const res = await tokenRequest(registry, `Bearer ${svid}`, ['repository:ci/app:pull,push', 'repository:other/app:pull,push']);
    const { token } = (await res.json()) as TokenBody;
    const workload = new BearerClient(registry.url, token);

    await workload.pushImage('ci/app', '1');
    const tags = await call(registry, '/v2/ci/app/tags/list', { token });
    expect(tags.status).toBe(200);
    expect(await tags.json()).toEqual({ name: 'ci/app', tags: ['1'] });

    const elsewhere = await call(registry, '/v2/other/app/blobs/uploads/', { method: 'POST', token });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('www-authenticate')).toBe(
      bearerChallenge(registry, 'repository:other/app:pull,push', 'insufficient_scope'),
    );
  });

  it('never issues a token that outlives the JWT-SVID', async () => {
    const svid = await signSvid(key, { sub: BUILDER, exp: Math.floor(Date.now() / 1000) + 60 });
    const res = await tokenRequest(registry, `Bearer ${svid}`, ['repository:ci/app:pull']);

    expect(res.status).toBe(200);
    expect(((await res.json()) as TokenBody).expires_in).toBeLessThanOrEqual(60);
  });

  it('accepts the JWT-SVID as the password of the issuer alias (Basic mesh:<jwt>)', async () => {
    const svid = await signSvid(key, { sub: BUILDER });
    const res = await tokenRequest(registry, basic('mesh', svid), ['repository:ci/app:pull']);

    expect(res.status).toBe(200);
    const { payload } = decodeJwt(((await res.json()) as TokenBody).token);
    expect(payload.name).toBe('rule+builders');
    expect(payload.access).toEqual([{ type: 'repository', name: 'ci/app', actions: ['pull'] }]);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => Promise<string>, string, 'bearer' | 'basic']> = [
    ['an expired JWT-SVID', () => signSvid(key, { sub: BUILDER, iat: now() - 600, exp: now() - 120 }), 'the token has expired', 'bearer'],
    ['a JWT-SVID for another audience', () => signSvid(key, { sub: BUILDER, aud: 'elsewhere' }), "the token's audience is not one of: portcullis", 'bearer'],
    [
      'a header with jku',
      () => signSvid(key, { sub: BUILDER }, { jku: 'http://127.0.0.1:1/keys' }),
      'a JWT-SVID header may carry only alg, kid and typ (JWT or JOSE)',
      'bearer',
    ],
    [
      'a subject of another trust domain (alias given)',
      () => signSvid(key, { sub: 'spiffe://other.org/ci/builder' }),
      "the token's subject is not a workload SPIFFE ID of trust domain example.org",
      'basic',
    ],
    ['a subject of an untrusted trust domain (no alias)', () => signSvid(key, { sub: 'spiffe://other.org/ci/builder' }), 'no trusted issuer matches the token', 'bearer'],
    [
      "the trust domain's own ID as subject",
      () => signSvid(key, { sub: 'spiffe://example.org' }),
      "the token's subject is not a workload SPIFFE ID of trust domain example.org",
      'bearer',
    ],
    [
      'an HS256 token',
      () =>
        new SignJWT({ sub: BUILDER, aud: 'portcullis', exp: now() + 300 })
          .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
          .sign(randomBytes(32)),
      'the token\'s algorithm "HS256" is not accepted from mesh',
      'bearer',
    ],
    ['a key id the bundle lacks', () => signSvid(stranger, { sub: BUILDER }), "no key of mesh matches the token's key id", 'bearer'],
    [
      'a tampered signature',
      async () => {
        const [header, payload, signature] = (await signSvid(key, { sub: BUILDER })).split('.') as [string, string, string];
        const bytes = Buffer.from(signature, 'base64url');
        bytes[10]! ^= 0x01;
        return `${header}.${payload}.${bytes.toString('base64url')}`;
      },
      "the token's signature does not verify",
      'bearer',
    ],
    [
      'a subject no rule accepts',
      () => signSvid(key, { sub: 'spiffe://example.org/web/frontend' }),
      "no federation rule of mesh accepts this token's claims",
      'bearer',
    ],
  ];

  it.each(cases)('refuses %s with 401 and says why', async (_what, make, description, style) => {
    const svid = await make();
    const res = await tokenRequest(registry, style === 'basic' ? basic('mesh', svid) : `Bearer ${svid}`, ['repository:ci/app:pull']);

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="portcullis", charset="UTF-8"');
    expect(await res.json()).toEqual(refusal(description));
  });

  it('exchanges a JWT-SVID for an access token (RFC 8693)', async () => {
    const svid = await signSvid(key, { sub: BUILDER });
    const res = await postToken(registry, {
      grant_type: TOKEN_EXCHANGE,
      subject_token: svid,
      subject_token_type: JWT_TYPE,
      scope: 'repository:ci/app:pull',
      service: 'portcullis',
    });

    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as TokenBody;
    expect(body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(body.token_type).toBe('Bearer');
    expect(body.scope).toBe('repository:ci/app:pull');
    expect(body.expires_in).toBeLessThanOrEqual(300);
    expect(decodeJwt(body.access_token).payload.fed).toEqual({ issuer: 'spiffe://example.org', subject: BUILDER, rule: 'builders' });
    expect((await call(registry, '/v2/ci/app/tags/list', { token: body.access_token })).status).toBe(200);
  });

  it('answers a refused token exchange with 400 invalid_request and the reason', async () => {
    const svid = await signSvid(key, { sub: BUILDER, aud: 'elsewhere' });
    const res = await postToken(registry, {
      grant_type: TOKEN_EXCHANGE,
      subject_token: svid,
      subject_token_type: JWT_TYPE,
      scope: 'repository:ci/app:pull',
    });

    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toBe("federated credential refused: the token's audience is not one of: portcullis");
  });
});

describe('a SPIFFE bundle served over HTTP (jwksUri)', () => {
  let pki: Pki;
  let registry: TestRegistry;
  let served: string;
  let bundles: Server;
  beforeAll(async () => {
    pki = await Pki.create();
    bundles = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(served);
    });
    bundles.listen(0, '127.0.0.1');
    await once(bundles, 'listening');
    const { port } = bundles.address() as AddressInfo;
    const configFile = await pki.write(
      'portcullis.yaml',
      configYaml({ alias: 'mesh', domain: 'example.org', bundle: `http://127.0.0.1:${port}/bundle` }),
    );
    registry = await startRegistry({ configFile });
    await withStore(registry, async (store) => {
      await store.principals.createNamespace('ci', null);
      await store.federation.addRule({
        name: 'builders',
        issuerAlias: 'mesh',
        conditions: { sub: 'spiffe://example.org/ci/*' },
        grants: [{ namespace: 'ci', role: 'reader' }],
        mixedEnvironments: false,
      });
    });
  });
  afterAll(async () => {
    await registry?.close();
    bundles?.close();
    await pki?.remove();
  });

  it('picks up a rotated key once the refetch cooldown has passed, and drops the old one', async () => {
    const first = await svidKey('first');
    const second = await svidKey('second');
    served = bundle([first], [], 1);
    const before = await tokenRequest(registry, `Bearer ${await signSvid(first, { sub: BUILDER })}`, ['repository:ci/app:pull']);
    expect(before.status, await before.clone().text()).toBe(200);

    served = bundle([second], [], 2);
    // keyRefetchSeconds is 1: an unknown kid may prompt a refetch one second after the last.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const rotated = await tokenRequest(registry, `Bearer ${await signSvid(second, { sub: BUILDER })}`, ['repository:ci/app:pull']);
    expect(rotated.status, await rotated.clone().text()).toBe(200);
    expect(decodeJwt(((await rotated.json()) as TokenBody).token).payload.access).toEqual([
      { type: 'repository', name: 'ci/app', actions: ['pull'] },
    ]);
    const retired = await tokenRequest(registry, `Bearer ${await signSvid(first, { sub: BUILDER })}`, ['repository:ci/app:pull']);
    expect(retired.status).toBe(401);
    expect(await retired.json()).toEqual(refusal("no key of mesh matches the token's key id"));
  });
});

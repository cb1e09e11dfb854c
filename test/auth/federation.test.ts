import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, RegistryClient } from '../helpers/client.js';
import { withStore } from './support/accounts.js';
import { startIssuer, type TestIssuer } from './support/issuer.js';
import { startLoggedRegistry, type LoggedRegistry } from './support/logged-registry.js';

const AUDIENCE = 'https://registry.test';

/** Claims shaped like a GitHub Actions ID token (PROTOCOLS.md §4.2). */
function github(overrides: Record<string, unknown> = {}) {
  return {
    sub: 'repo:octo-org/app:ref:refs/heads/main',
    aud: AUDIENCE,
    repository: 'octo-org/app',
    repository_id: 123456,
    repository_owner_id: 42,
    ref: 'refs/heads/main',
    ref_protected: true,
    job_workflow_ref: 'octo-org/app/.github/workflows/release.yml@refs/heads/main',
    ...overrides,
  };
}

function tokenAt(registry: LoggedRegistry, authorization: string, scope = 'repository:team/app:pull,push') {
  const query = new URLSearchParams({ service: 'portcullis', scope });
  return fetch(`${registry.url}/token?${query}`, { headers: { Authorization: authorization } });
}

/** The JSON lines the server logged for requests to /token that were refused. */
function refusals(registry: LoggedRegistry): Array<Record<string, unknown>> {
  return registry
    .logText()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.refused !== undefined);
}

describe('federated workload identity (OIDC/JWT)', () => {
  let issuer: TestIssuer;
  let registry: LoggedRegistry;
  let dir: string;

  beforeAll(async () => {
    issuer = await startIssuer('RS256');
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-federation-'));
    const file = path.join(dir, 'portcullis.yaml');
    await writeFile(
      file,
      [
        'federation:',
        '  keyRefetchSeconds: 1',
        '  issuers:',
        '    - alias: ci',
        `      issuer: ${issuer.url}`,
        `      audiences: [${AUDIENCE}]`,
        '      algorithms: [RS256]',
      ].join('\n'),
    );
    registry = await startLoggedRegistry({ configFile: file });
    await withStore(registry, async (store) => {
      await store.principals.createNamespace('team', null);
      await store.principals.createNamespace('other', null);
      await store.federation.addRule({
        name: 'release',
        issuerAlias: 'ci',
        conditions: { repository_id: '123456', ref: ['refs/heads/main', 'refs/tags/v*'] },
        grants: [{ namespace: 'team', role: 'writer' }],
        mixedEnvironments: false,
      });
    });
  });

  afterAll(async () => {
    await registry?.close();
    await issuer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('trades a JWT given as the password of the issuer alias for a registry token naming issuer, subject and rule', async () => {
    const jwt = await issuer.sign(github());
    const response = await tokenAt(registry, basic('ci', jwt), 'repository:team/app:pull,push');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; expires_in: number; refresh_token?: string };
    expect(body.expires_in).toBeLessThanOrEqual(300);
    expect(body.refresh_token).toBeUndefined();
    const claims = decodeJwt(body.token);
    expect(claims.name).toBe('rule+release');
    expect(claims.sub).toMatch(/^rule:/);
    expect(claims.fed).toEqual({ issuer: issuer.url, subject: 'repo:octo-org/app:ref:refs/heads/main', rule: 'release' });
    expect(claims.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    expect(JSON.stringify(body)).not.toContain(jwt);
  });

  it('pushes and pulls with the federated token, and grants nothing outside the rule', async () => {
    const client = new RegistryClient(registry.url, 'ci', await issuer.sign(github()));
    const digest = await client.pushBlob('team/app', Buffer.from('federated layer'));
    expect((await client.request(`/v2/team/app/blobs/${digest}`)).status).toBe(200);

    const other = await tokenAt(registry, basic('ci', await issuer.sign(github())), 'repository:other/app:pull');
    expect(decodeJwt(((await other.json()) as { token: string }).token).access).toEqual([]);
  });

  it('matches a tag ref through a glob in a list, and refuses a branch the rule does not name', async () => {
    const tag = await tokenAt(registry, basic('ci', await issuer.sign(github({ ref: 'refs/tags/v1.2.0' }))));
    expect(tag.status).toBe(200);

    const feature = await tokenAt(registry, basic('ci', await issuer.sign(github({ ref: 'refs/heads/feature/x' }))));
    expect(feature.status).toBe(401);
    expect(((await feature.json()) as { error_description: string }).error_description).toBe(
      "federated credential refused: no federation rule of ci accepts this token's claims",
    );
  });

  it('accepts the JWT as a bearer credential at /token, finding the issuer by its iss', async () => {
    const response = await tokenAt(registry, `Bearer ${await issuer.sign(github())}`);
    expect(response.status).toBe(200);
  });

  it('fetches discovery and keys once, not per token', () => {
    expect(issuer.fetches.discovery).toBe(1);
    expect(issuer.fetches.jwks).toBe(1);
  });

  describe('refuses a token that fails a check, says which, and logs it without the token', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => Promise<string>, string, string]> = [
      ['expired', () => issuer.sign(github({ iat: now() - 900, exp: now() - 600 })), 'expired', 'the token has expired'],
      ['not yet valid', () => issuer.sign(github({ nbf: now() + 600 })), 'not-yet-valid', 'the token is not valid yet (nbf)'],
      ['issued in the future', () => issuer.sign(github({ iat: now() + 600, exp: now() + 900 })), 'issued-in-future', 'the token was issued in the future (iat)'],
      ['for another audience', () => issuer.sign(github({ aud: 'https://elsewhere.test' })), 'wrong-audience', `the token's audience is not one of: ${AUDIENCE}`],
      ['from another issuer', () => issuer.sign(github({ iss: 'https://impostor.test' })), 'wrong-issuer', "the token's issuer is not {issuer}"],
      ['without exp', () => issuer.sign(github({ exp: undefined })), 'missing-claim', 'the token lacks the "exp" claim'],
      [
        'with a tampered payload',
        async () => {
          const [header, , signature] = (await issuer.sign(github())).split('.');
          const payload = Buffer.from(JSON.stringify({ ...github(), repository_id: 999, iss: issuer.url, exp: now() + 300 })).toString('base64url');
          return `${header}.${payload}.${signature}`;
        },
        'bad-signature',
        "the token's signature does not verify",
      ],
      ['signed by an unknown key', async () => issuer.sign(github(), { key: await issuer.stranger() }), 'unknown-key', "no key of ci matches the token's key id"],
      ['signed with an algorithm not allowed', async () => issuer.sign(github(), { key: await issuer.stranger('ES256') }), 'algorithm-not-allowed', 'the token\'s algorithm "ES256" is not accepted from ci'],
      [
        'signed with HMAC',
        () => new SignJWT(github({ iss: issuer.url })).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('shared-secret-shared-secret-1234')),
        'algorithm-not-allowed',
        'the token\'s algorithm "HS256" is not accepted from ci',
      ],
      ['unsigned (alg none)', async () => new UnsecuredJWT(github({ iss: issuer.url })).setExpirationTime('5m').encode(), 'algorithm-not-allowed', 'the token\'s algorithm "none" is not accepted from ci'],
      ['not a JWT at all', async () => 'hunter2-is-not-a-jwt', 'malformed', 'the token is not a signed JWT'],
    ];

    for (const [name, make, reason, description] of cases) {
      it(name, async () => {
        const jwt = await make();
        const response = await tokenAt(registry, basic('ci', jwt));
        expect(response.status).toBe(401);
        const body = (await response.json()) as { errors: Array<{ code: string; message: string }>; error: string; error_description: string };
        expect(body.error).toBe('invalid_grant');
        expect(body.error_description).toBe(`federated credential refused: ${description.replace('{issuer}', issuer.url)}`);
        expect(body.errors[0]!.code).toBe('UNAUTHORIZED');
        expect(refusals(registry).at(-1)).toMatchObject({ refused: reason, url: expect.stringMatching(/^\/token/) });
        expect(registry.logText()).not.toContain(jwt);
      });
    }
  });

  it('refetches keys for an unknown kid at most once per cooldown, and accepts the rotated key after it', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = issuer.fetches.jwks;
    const forged = await Promise.all([1, 2, 3, 4, 5].map(async () => issuer.sign(github(), { key: await issuer.stranger() })));
    for (const jwt of forged) expect((await tokenAt(registry, basic('ci', jwt))).status).toBe(401);
    expect(issuer.fetches.jwks - before).toBe(1);

    await issuer.rotate();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await tokenAt(registry, basic('ci', await issuer.sign(github())))).status).toBe(200);
    expect(issuer.fetches.jwks - before).toBe(2);
  });

  it('never lets the registry token outlive the JWT it was traded for', async () => {
    const exp = Math.floor(Date.now() / 1000) + 90;
    const response = await tokenAt(registry, basic('ci', await issuer.sign(github({ exp }))));
    const body = (await response.json()) as { token: string; expires_in: number };
    expect(body.expires_in).toBeLessThanOrEqual(90);
    expect(decodeJwt(body.token).exp).toBeLessThanOrEqual(exp);
  });

  it('records the last use of the rule: when, by which subject, from where', async () => {
    const rule = await withStore(registry, (store) => store.federation.ruleByName('release'));
    expect(rule?.lastUsedSubject).toBe('repo:octo-org/app:ref:refs/heads/main');
    expect(rule?.lastUsedIp).toBe('127.0.0.1');
    expect(rule?.lastUsedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it('cuts off tokens already issued when the rule is disabled, and issues none until it is enabled', async () => {
    const client = new RegistryClient(registry.url, 'ci', await issuer.sign(github()));
    expect((await client.request('/v2/team/app/tags/list')).status).not.toBe(401);
    await withStore(registry, (store) => store.federation.setRuleDisabled('release', true));
    expect((await client.request('/v2/team/app/tags/list')).status).toBe(401);
    expect((await tokenAt(registry, basic('ci', await issuer.sign(github())))).status).toBe(401);
    await withStore(registry, (store) => store.federation.setRuleDisabled('release', false));
    expect((await tokenAt(registry, basic('ci', await issuer.sign(github())))).status).toBe(200);
  });

  it("refuses the rule's tokens from networks outside its allowlist", async () => {
    await withStore(registry, (store) => store.addressRules.setRule('release', ['10.0.0.0/8']));
    try {
      const response = await tokenAt(registry, basic('ci', await issuer.sign(github())));
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('access_denied');
    } finally {
      await withStore(registry, (store) => store.addressRules.setRule('release', null));
    }
  });
});

describe('federation with keys from a file, for sites that cannot reach the issuer', () => {
  let issuer: TestIssuer;
  let registry: LoggedRegistry;
  let dir: string;

  beforeAll(async () => {
    issuer = await startIssuer('ES256');
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-federation-file-'));
    await writeFile(path.join(dir, 'cluster-jwks.json'), JSON.stringify(issuer.jwks()));
    registry = await startLoggedRegistry();
    await withStore(registry, async (store) => {
      await store.principals.createNamespace('apps', null);
      await store.federation.addIssuer({
        alias: 'cluster',
        kind: 'oidc',
        issuer: issuer.url,
        audiences: ['portcullis'],
        algorithms: ['ES256'],
        jwksUri: null,
        jwksFile: path.join(dir, 'cluster-jwks.json'),
      });
      // A Kubernetes service account, matched by its immutable uid and a list of namespaces.
      await store.federation.addRule({
        name: 'deployer',
        issuerAlias: 'cluster',
        conditions: { 'kubernetes.io.serviceaccount.uid': 'c0ffee00-0000-4000-8000-000000000001', 'kubernetes.io.namespace': ['build', 'deploy'] },
        grants: [{ namespace: 'apps', role: 'reader' }],
        mixedEnvironments: false,
      });
    });
  });

  afterAll(async () => {
    await registry?.close();
    await issuer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const serviceAccount = (namespace: string, uid = 'c0ffee00-0000-4000-8000-000000000001') => ({
    sub: `system:serviceaccount:${namespace}:deployer`,
    aud: ['portcullis'],
    'kubernetes.io': { namespace, serviceaccount: { name: 'deployer', uid } },
  });

  it('verifies against the file without fetching anything from the issuer', async () => {
    const response = await tokenAt(registry, basic('cluster', await issuer.sign(serviceAccount('deploy'))), 'repository:apps/web:pull');
    expect(response.status).toBe(200);
    expect(decodeJwt(((await response.json()) as { token: string }).token).access).toEqual([{ type: 'repository', name: 'apps/web', actions: ['pull'] }]);
    expect(issuer.fetches).toEqual({ discovery: 0, jwks: 0 });
  });

  it('refuses a recreated service account (same name, new uid) and a namespace not listed', async () => {
    expect((await tokenAt(registry, basic('cluster', await issuer.sign(serviceAccount('deploy', 'another-uid'))))).status).toBe(401);
    expect((await tokenAt(registry, basic('cluster', await issuer.sign(serviceAccount('default'))))).status).toBe(401);
  });

  it('rereads the file when it changes, so keys rotate without a restart', async () => {
    await issuer.rotate();
    await writeFile(path.join(dir, 'cluster-jwks.json'), JSON.stringify(issuer.jwks()));
    await new Promise((resolve) => setTimeout(resolve, 5200));
    expect((await tokenAt(registry, basic('cluster', await issuer.sign(serviceAccount('build'))))).status).toBe(200);
  }, 15_000);
});

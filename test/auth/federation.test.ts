import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/admin/index.js';
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
        // Refusal after refusal from one address: keep the sign-in throttle out of the way.
        'auth:',
        '  throttle: { addressFailures: 1000 }',
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
      ['with a subject that is not a string', () => issuer.sign(github({ sub: { id: 5 } })), 'malformed', 'the token\'s "sub" claim is not a string'],
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

  it("stops a leaked ID token with token revoke --rule, while the workflow's next ID token works", async () => {
    const leaked = await issuer.sign(github());
    const held = await tokenAt(registry, basic('ci', leaked));
    const registryToken = ((await held.json()) as { token: string }).token;
    await withStore(registry, (store) => new Admin(store, registry.config).credentials.revoke({ rule: 'release', actor: 'test' }));

    expect((await fetch(`${registry.url}/v2/team/app/tags/list`, { headers: { Authorization: `Bearer ${registryToken}` } })).status).toBe(401);
    const again = await tokenAt(registry, basic('ci', leaked));
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error_description: string }).error_description).toBe(
      'federated credential refused: the credential was issued before the tokens of rule+release were revoked',
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await tokenAt(registry, basic('ci', await issuer.sign(github())))).status).toBe(200);
  });

  it('tells a token of another issuer sent under this alias so, without fetching keys for it', async () => {
    const before = { ...issuer.fetches };
    const response = await tokenAt(registry, basic('ci', await issuer.sign(github({ iss: 'https://gitlab.example.com' }))));
    expect(((await response.json()) as { error_description: string }).error_description).toBe(
      `federated credential refused: the token's issuer is not ${issuer.url}`,
    );
    expect(issuer.fetches).toEqual(before);
  });

  it('logs which claim each rule missed when none matches, naming claims but not their values', async () => {
    await tokenAt(registry, basic('ci', await issuer.sign(github({ repository_id: 999_999_001 }))));
    const last = refusals(registry).at(-1)!;
    expect(last).toMatchObject({ refused: 'no-rule', refusedDetail: 'release: claim "repository_id" does not match' });
    expect(registry.logText()).not.toContain('999999001');
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

describe('an issuer in trouble', () => {
  it('is asked for its keys at most once per cooldown however many forged tokens arrive (regression: one fetch per request)', async () => {
    const issuer = await startIssuer('RS256');
    const registry = await startLoggedRegistry();
    try {
      await withStore(registry, (store) =>
        store.federation.addIssuer({ alias: 'flaky', kind: 'oidc', issuer: issuer.url, audiences: ['portcullis'], algorithms: ['RS256'], jwksUri: null, jwksFile: null }),
      );
      issuer.failing = true;
      const forged = `${Buffer.from('{"alg":"RS256","kid":"x"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: issuer.url, sub: 'a', aud: 'portcullis', exp: 4102444800 })).toString('base64url')}.AAAA`;
      const statuses = [];
      for (let i = 0; i < 10; i++) statuses.push((await tokenAt(registry, `Bearer ${forged}`)).status);
      expect(new Set(statuses)).toEqual(new Set([503]));
      expect(issuer.fetches.discovery).toBe(1);
      expect(issuer.fetches.jwks).toBe(0);
    } finally {
      await registry.close();
      await issuer.close();
    }
  });

  it('answers an unsigned token with a non-string subject with 401, not 500 (regression)', async () => {
    const registry = await startLoggedRegistry();
    try {
      const odd = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"sub":5}').toString('base64url')}.x`;
      expect((await tokenAt(registry, `Bearer ${odd}`)).status).toBe(401);
    } finally {
      await registry.close();
    }
  });
});

describe('an issuer that cannot be reached', () => {
  it('answers 503 saying the keys cannot be obtained, not that the credential is bad', async () => {
    const issuer = await startIssuer('RS256');
    const jwt = await issuer.sign({ sub: 'x', aud: 'portcullis', repository: 'a/b' });
    const url = issuer.url;
    await issuer.close();
    const registry = await startLoggedRegistry();
    try {
      await withStore(registry, async (store) => {
        await store.federation.addIssuer({ alias: 'gone', kind: 'oidc', issuer: url, audiences: ['portcullis'], algorithms: ['RS256'], jwksUri: null, jwksFile: null });
      });
      const response = await tokenAt(registry, basic('gone', jwt));
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        error: 'temporarily_unavailable',
        error_description: 'federated credential not checked: the keys of gone cannot be obtained right now',
      });
    } finally {
      await registry.close();
    }
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { withStore } from './support/accounts.js';
import { startIssuer, type TestIssuer } from './support/issuer.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** A GitLab CI `id_tokens` token (PROTOCOLS.md §4.3). */
const gitlab = (ref = 'main') => ({
  sub: `project_path:group/project:ref_type:branch:ref:${ref}`,
  aud: 'portcullis',
  project_id: '77',
  project_path: 'group/project',
  ref,
  ref_protected: 'true',
});

describe('RFC 8693 token exchange at POST /token', () => {
  let issuer: TestIssuer;
  let registry: TestRegistry;
  let dir: string;

  const exchange = (fields: Record<string, string | string[]>) => {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) for (const v of [value].flat()) form.append(key, v);
    return fetch(`${registry.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  };

  beforeAll(async () => {
    issuer = await startIssuer('ES256');
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-exchange-'));
    const file = path.join(dir, 'portcullis.yaml');
    await writeFile(
      file,
      ['auth:', '  tokenTtl: 900', '  throttle: { addressFailures: 4 }', 'federation:', '  issuers:', '    - alias: gitlab', `      issuer: ${issuer.url}`, '      audiences: [portcullis]', '      algorithms: [ES256]'].join('\n'),
    );
    // A long registry token lifetime for people; federated tokens must still get five minutes at most.
    registry = await startRegistry({ configFile: file });
    await withStore(registry, async (store) => {
      await store.principals.createNamespace('group', null);
      await store.federation.addRule({
        name: 'protected-branches',
        issuerAlias: 'gitlab',
        conditions: { project_id: '77', ref_protected: 'true' },
        grants: [{ namespace: 'group', role: 'writer' }],
        mixedEnvironments: false,
      });
    });
  });

  afterAll(async () => {
    await registry?.close();
    await issuer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers with an access token, its type, the granted scope and at most five minutes', async () => {
    const response = await exchange({
      grant_type: EXCHANGE,
      subject_token: await issuer.sign(gitlab()),
      subject_token_type: JWT_TYPE,
      audience: 'portcullis',
      scope: 'repository:group/app:pull,push repository:elsewhere/app:pull',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      scope: 'repository:group/app:pull,push',
    });
    expect(body.expires_in).toBeLessThanOrEqual(300);
    expect(body.access_token).toBe(body.token);
    expect(decodeJwt(body.access_token as string).fed).toMatchObject({ rule: 'protected-branches', subject: gitlab().sub });

    const tags = await fetch(`${registry.url}/v2/group/app/tags/list`, { headers: { Authorization: `Bearer ${body.access_token as string}` } });
    expect(tags.status).toBe(404);
  });

  it('says so when the body is JSON instead of a form', async () => {
    const response = await fetch(`${registry.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: EXCHANGE }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: 'the body must be a form (application/x-www-form-urlencoded)' });
  });

  it('accepts an ID token type as well', async () => {
    const response = await exchange({
      grant_type: EXCHANGE,
      subject_token: await issuer.sign(gitlab()),
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    });
    expect(response.status).toBe(200);
  });

  const cases: Array<[string, () => Promise<Record<string, string>>, string, string]> = [
    ['without a subject token type', async () => ({ grant_type: EXCHANGE, subject_token: await issuer.sign(gitlab()) }), 'invalid_request', 'subject_token and subject_token_type are required'],
    ['with a SAML subject token', async () => ({ grant_type: EXCHANGE, subject_token: 'x', subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }), 'invalid_request', 'subject_token_type must be a JWT or an ID token'],
    ['with an actor token', async () => ({ grant_type: EXCHANGE, subject_token: await issuer.sign(gitlab()), subject_token_type: JWT_TYPE, actor_token: 'a', actor_token_type: JWT_TYPE }), 'invalid_request', 'actor tokens (delegation) are not accepted'],
    ['for another audience', async () => ({ grant_type: EXCHANGE, subject_token: await issuer.sign(gitlab()), subject_token_type: JWT_TYPE, audience: 'other-registry' }), 'invalid_target', "the audience must be this registry's service, portcullis"],
    ['asking for a refresh token', async () => ({ grant_type: EXCHANGE, subject_token: await issuer.sign(gitlab()), subject_token_type: JWT_TYPE, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 'invalid_request', 'this registry issues access tokens only'],
    ['with an unprotected branch', async () => ({ grant_type: EXCHANGE, subject_token: await issuer.sign({ ...gitlab('dev'), ref_protected: 'false' }), subject_token_type: JWT_TYPE }), 'invalid_request', "federated credential refused: no federation rule of gitlab accepts this token's claims"],
  ];
  for (const [name, fields, error, description] of cases) {
    it(`refuses a request ${name} with 400 ${error}`, async () => {
      const response = await exchange(await fields());
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error, error_description: description });
    });
  }

  it('answers 429 with Retry-After once one address has sent too many bad tokens, whatever the token', async () => {
    const forged = await issuer.sign(gitlab(), { key: await issuer.stranger('ES256') });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${registry.url}/token?service=portcullis`, { headers: { Authorization: basic('gitlab', forged) } });
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Four failures are allowed (one was the unprotected branch above); the next attempt waits.
    const first = statuses.indexOf(429);
    expect(first).toBeGreaterThan(0);
    expect(statuses.slice(0, first).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(first).every((s) => s === 429)).toBe(true);
    const good = await fetch(`${registry.url}/token?service=portcullis`, { headers: { Authorization: basic('gitlab', await issuer.sign(gitlab())) } });
    expect(good.status).toBe(429);
  });
});

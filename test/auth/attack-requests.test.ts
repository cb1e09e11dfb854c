import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, createNamespaces, type Account } from './support/accounts.js';
import {
  bearerChallenge,
  call,
  decodeJwt,
  expectAlive,
  rawRequest,
  rawSocket,
  tokenFor,
} from './support/http.js';

/**
 * An attacker with a low-privilege account (`mallory`, writer on `team`) and an anonymous
 * client try to reach `secret/app` through odd paths, headers and scope strings. None of it
 * may leak the secret manifest, and the server must keep answering after each attempt.
 */
describe('attacks on paths, headers and scopes', () => {
  let registry: TestRegistry;
  let mallory: Account;
  let token: string;
  let secretManifest: string;
  beforeAll(async () => {
    registry = await startRegistry();
    const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    await createNamespaces(registry, ['secret']);
    secretManifest = (await admin.pushImage('secret/app', 'v1')).manifest.toString('utf8');
    await admin.pushImage('team/app', 'v1');
    mallory = await addUser(registry, 'mallory', [['team', 'writer']]);
    token = await tokenFor(registry, mallory, ['repository:team/app:pull,push']);
  });
  afterEach(async () => {
    await expectAlive(registry);
  });
  afterAll(() => registry.close());

  describe('path tricks', () => {
    it.each([
      ['dot segments', '/v2/team/../secret/app/manifests/v1', 400],
      ['encoded dot segments', '/v2/team/%2E%2E/secret/app/manifests/v1', 400],
      ['encoded slashes', '/v2/team%2F..%2Fsecret%2Fapp/manifests/v1', 400],
      ['an encoded slash inside the name', '/v2/secret%2Fapp/manifests/v1', 400],
      ['a double slash in the name', '/v2/team//app/manifests/v1', 400],
      ['a double slash after /v2', '/v2//secret/app/manifests/v1', 400],
      ['a trailing-slash name', '/v2/secret/app//manifests/v1', 400],
      ['upper case', '/v2/SECRET/app/manifests/v1', 400],
      ['a 300-character name', `/v2/team/${'a'.repeat(300)}/manifests/v1`, 400],
      ['a 5000-character name', `/v2/team/${'a'.repeat(5000)}/manifests/v1`, 400],
      ['a 200-character tag', `/v2/team/app/manifests/${'a'.repeat(200)}`, 400],
      ['a 3000-character digest', `/v2/team/app/blobs/sha256:${'a'.repeat(3000)}`, 400],
      ['an encoded dot-dot reference', '/v2/team/app/manifests/%2E%2E%2F%2E%2E%2Fsecret', 400],
      ['a malformed percent escape', '/v2/team/app/manifests/%E0%A4%A', 400],
    ])('gets nothing through %s', async (_what, path, status) => {
      const res = await rawRequest(registry, 'GET', path, { Authorization: `Bearer ${token}` });

      expect(res.status).toBe(status);
      expect(res.body).not.toContain(secretManifest);
    });

    it('answers an anonymous odd path with a challenge or a 4xx, never content', async () => {
      for (const path of [
        '/v2/team/../secret/app/manifests/v1',
        '/v2/secret%2Fapp/manifests/v1',
        '/v2/%2e%2e/manifests/v1',
      ]) {
        const res = await rawRequest(registry, 'GET', path);

        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
    });
  });

  describe('header tricks', () => {
    it('uses the first of two Authorization headers, whichever order', async () => {
      const good = `Bearer ${token}`;
      const first = await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
        Authorization: [good, 'Bearer junk'],
      });
      const second = await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
        Authorization: ['Bearer junk', good],
      });

      expect(first.status).toBe(200);
      expect(second.status).toBe(401);
    });

    it('does not let a second Authorization header widen the first token', async () => {
      const admin = await tokenFor(registry, { name: 'admin', password: registry.adminPassword }, [
        'repository:secret/app:pull',
      ]);
      const res = await rawRequest(registry, 'GET', '/v2/secret/app/manifests/v1', {
        Authorization: [`Bearer ${token}`, `Bearer ${admin}`],
      });

      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(
        bearerChallenge(registry, 'repository:secret/app:pull', 'insufficient_scope'),
      );
    });

    it('refuses headers beyond the size limit with 431 and keeps serving', async () => {
      const res = await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
        Authorization: `Bearer ${token}`,
        'X-Padding': 'a'.repeat(64 * 1024),
      });

      expect(res.status).toBe(431);
    });

    it('refuses a 15 000-character bearer value with 401, not a crash', async () => {
      const res = await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
        Authorization: `Bearer ${'a'.repeat(15_000)}`,
      });

      expect(res.status).toBe(401);
    });

    it('accepts extra spaces around the token, refuses a missing separator', async () => {
      const spaced = await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
        Authorization: `Bearer    ${token}   `,
      });
      const lower = await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
        Authorization: `bearer ${token}`,
      });
      const glued = await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
        Authorization: `Bearer${token}`,
      });
      const split = await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
        Authorization: `Bearer ${token} ${token}`,
      });

      expect([spaced.status, lower.status, glued.status, split.status]).toEqual([
        200, 200, 401, 401,
      ]);
      expect(split.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('never builds the challenge realm from a Host header that is not a plain host:port', async () => {
      const answer = await rawSocket(
        registry,
        'GET /v2/ HTTP/1.1\r\nHost: evil.example",x="y\r\nConnection: close\r\n\r\n',
      );
      const header = /^www-authenticate: (.*)$/im.exec(answer)?.[1];

      expect(header).toBe(bearerChallenge(registry));
    });

    it('ignores X-Forwarded-* from a client that is not a trusted proxy', async () => {
      const res = await rawRequest(registry, 'GET', '/v2/', {
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'registry.evil.example',
        'X-Forwarded-For': '10.0.0.1',
      });

      expect(res.headers['www-authenticate']).toBe(bearerChallenge(registry));
    });
  });

  describe('anonymous resource use', () => {
    it('does not turn client-chosen paths into metrics series', async () => {
      // Each distinct label set is kept for the life of the process: a memory exhaustion lever.
      for (let i = 0; i < 20; i++)
        await (await fetch(`${registry.url}/probe-${i}-path`)).arrayBuffer();
      await (await fetch(`${registry.url}/v2/probe-repo/manifests/v1`)).arrayBuffer();
      const metrics = await (await fetch(`${registry.url}/metrics`)).text();

      expect(metrics).not.toContain('probe-');
      expect(metrics).toMatch(
        /portcullis_http_requests_total\{method="GET",route="other",status="404"\} 20/,
      );
    });
  });

  describe('scope strings with odd forms', () => {
    const accessFor = async (scope: string) =>
      decodeJwt(await tokenFor(registry, mallory, [scope])).payload.access;

    it.each([
      ['a host:port prefix', () => `repository:${new URL(registry.url).host}/secret/app:pull`],
      ['a resource class', () => 'repository(plugin):secret/app:pull'],
      ['the * action', () => 'repository:secret/app:*'],
      ['an upper-case name', () => 'repository:SECRET/app:pull'],
      ['a catalog scope with push', () => 'registry:catalog:push'],
      ['an unknown resource type', () => 'namespace:secret:pull'],
      ['an empty action list', () => 'repository:secret/app:'],
    ])('grants nothing on secret for %s', async (_what, scope) => {
      const access = (await accessFor(scope())) as Array<{ name: string }>;

      expect(access.filter((a) => a.name.includes('secret') || a.name === 'catalog')).toEqual([]);
    });

    it('grants nothing for a name that climbs out of the namespace with dot segments', async () => {
      // The name starts with "team/", so a plain prefix test would put it inside `team`.
      expect(await accessFor('repository:team/app/../../secret/app:pull,push')).toEqual([]);
      expect(await accessFor('repository:team/./../secret/app:pull')).toEqual([]);
    });

    it('grants a class-suffixed scope exactly like the plain one', async () => {
      expect(await accessFor('repository(plugin):team/app:pull')).toEqual([
        { type: 'repository', name: 'team/app', actions: ['pull'] },
      ]);
    });

    it('treats a host-prefixed name as a different repository', async () => {
      const scoped = await tokenFor(registry, { name: 'admin', password: registry.adminPassword }, [
        `repository:${new URL(registry.url).host}/secret/app:pull`,
      ]);
      const res = await call(registry, '/v2/secret/app/manifests/v1', { token: scoped });

      expect(res.status).toBe(401);
    });
  });
});

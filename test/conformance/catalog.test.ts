import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, expectError, scopeOf, stopRegistry, uploadBlob } from './support/oci.js';

// GET /v2/_catalog, the Docker registry API listing (PROTOCOLS.md §1.10).
let registry: TestRegistry;
let admin: RegistryClient;
let reader: RegistryClient;
const CATALOG = 'registry:catalog:*';
const repositories = ['team/zeta', 'team/alpha', 'other/app', 'team/alpha/sub', 'team/mid'];
const sorted = ['other/app', 'team/alpha', 'team/alpha/sub', 'team/mid', 'team/zeta'];

beforeAll(async () => {
  registry = await startRegistry();
  admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  for (const name of repositories) await uploadBlob(admin, name, Buffer.from(name));
  const rita = await addUser(registry, 'rita', [{ role: 'reader', namespace: 'other' }]);
  reader = new RegistryClient(registry.url, rita.name, rita.password);
});
afterAll(() => stopRegistry(registry));

async function fetchCatalog(query = '', client = admin) {
  const res = await client.request(`/v2/_catalog${query}`, { scope: CATALOG });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { repositories: string[] };

  return { repositories: body.repositories, link: res.headers.get('link') };
}

describe('GET /v2/_catalog', () => {
  it('lists repositories in sorted order', async () => {
    const { repositories: listed, link } = await fetchCatalog();
    expect(listed).toEqual(sorted);
    expect(link).toBeNull();
  });

  it('pages with n and last, linking to the next page while more remain', async () => {
    const first = await fetchCatalog('?n=2');
    expect(first.repositories).toEqual(['other/app', 'team/alpha']);
    expect(first.link).toBe('</v2/_catalog?n=2&last=team%2Falpha>; rel="next"');

    const second = await fetchCatalog('?n=2&last=team/alpha');
    expect(second.repositories).toEqual(['team/alpha/sub', 'team/mid']);
    const third = await fetchCatalog('?n=2&last=team/mid');
    expect(third.repositories).toEqual(['team/zeta']);
    expect(third.link).toBeNull();
  });

  it('walks every repository exactly once by following Link headers', async () => {
    const seen: string[] = [];
    let next: string | null = '/v2/_catalog?n=2';
    for (let pages = 0; next !== null; pages++) {
      expect(pages).toBeLessThan(10);
      const res = await admin.request(next, { scope: CATALOG });
      expect(res.status).toBe(200);
      seen.push(...((await res.json()) as { repositories: string[] }).repositories);
      next = /^<([^>]+)>;\s*rel="next"$/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
    }
    expect(seen).toEqual(sorted);
  });

  it('answers an empty list for n=0', async () => {
    const { repositories: listed, link } = await fetchCatalog('?n=0');
    expect(listed).toEqual([]);
    expect(link).toBeNull();
  });

  it.each(['-1', 'abc', '2.5', '1001', '99999999999'])(
    'answers 400 PAGINATION_NUMBER_INVALID for n=%s',
    async (n) => {
      const res = await admin.request(`/v2/_catalog?n=${n}`, { scope: CATALOG });
      await expectError(res, 400, 'PAGINATION_NUMBER_INVALID');
    },
  );

  it('lists only the repositories the caller may pull', async () => {
    expect((await fetchCatalog('', reader)).repositories).toEqual(['other/app']);
  });

  it('challenges an anonymous caller for registry:catalog:*', async () => {
    const res = await admin.request('/v2/_catalog', { anonymous: true });
    expect(res.headers.get('www-authenticate') ?? '').toContain('scope="registry:catalog:*"');
    await expectError(res, 401, 'UNAUTHORIZED');
  });

  it('wants a token carrying registry:catalog:*', async () => {
    const res = await admin.request('/v2/_catalog', { scope: scopeOf('team/alpha') });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate') ?? '').toContain('registry:catalog:*');
    await expectError(res, 401, 'UNAUTHORIZED');
  });
});

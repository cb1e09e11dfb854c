import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, createNamespaces, grant, revoke, type Account } from './support/accounts.js';
import { call, tokenFor } from './support/http.js';

/** Headers that legitimately differ between two identical answers. */
const VOLATILE = new Set(['date', 'x-request-id']);

interface Seen {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The response with the repository name replaced, so that two names can be compared. */
async function seen(res: Response, name: string): Promise<Seen> {
  const raw = await res.text();
  const headers: Record<string, string> = {};
  for (const [key, value] of res.headers) {
    if (VOLATILE.has(key)) continue;
    // The length differs with the names' lengths; it is checked against the body instead.
    headers[key] = key === 'content-length' ? 'n' : value.replaceAll(name, '<name>');
  }
  if (raw !== '') expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(raw));

  return { status: res.status, headers, body: raw.replaceAll(name, '<name>') };
}

/**
 * A caller without access to the namespace `secret` must not be able to tell an existing
 * repository (`secret/app`, with tags, manifests and blobs) from one that does not exist.
 */
describe('existence hiding', () => {
  let registry: TestRegistry;
  let image: Awaited<ReturnType<RegistryClient['pushImage']>>;
  let dave: Account;
  const EXISTING = 'secret/app';
  const MISSING = 'secret/nope';

  beforeAll(async () => {
    registry = await startRegistry();
    const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    await createNamespaces(registry, ['secret']);
    image = await admin.pushImage(EXISTING, 'v1');
    await admin.pushImage('team/app', 'v1');
    await admin.pushImage('other/tool', 'v1');
    dave = await addUser(registry, 'dave', [['team', 'reader']]);
  });
  afterAll(() => registry.close());

  const probes = (): ReadonlyArray<[method: string, resource: string]> => [
    ['GET', 'manifests/v1'],
    ['HEAD', 'manifests/v1'],
    ['GET', `manifests/${image.digest}`],
    ['GET', `blobs/${image.layerDigest}`],
    ['HEAD', `blobs/${image.layerDigest}`],
    ['GET', 'tags/list'],
    ['GET', `referrers/${image.digest}`],
    ['POST', 'blobs/uploads/'],
    ['DELETE', `manifests/${image.digest}`],
  ];

  const compare = async (token: (name: string) => Promise<string>) => {
    for (const [method, resource] of probes()) {
      const existing = await call(registry, `/v2/${EXISTING}/${resource}`, {
        method,
        token: await token(EXISTING),
      });
      const missing = await call(registry, `/v2/${MISSING}/${resource}`, {
        method,
        token: await token(MISSING),
      });

      expect(existing.status, `${method} ${resource}`).not.toBe(200);
      expect(await seen(existing, EXISTING), `${method} ${resource}`).toEqual(
        await seen(missing, MISSING),
      );
    }
  };

  it('answers identically when the token carries nothing for the repository', async () => {
    await compare((name) => tokenFor(registry, dave, [`repository:${name}:pull,push,delete`]));
  });

  it('answers identically when the token was issued before the binding was revoked', async () => {
    await grant(registry, dave, 'secret', 'maintainer');
    const tokens = new Map<string, string>();
    for (const name of [EXISTING, MISSING])
      tokens.set(name, await tokenFor(registry, dave, [`repository:${name}:pull,push,delete`]));
    await revoke(registry, dave, 'secret');

    await compare(async (name) => tokens.get(name)!);
  });

  it('lists in the catalog only the repositories the caller can pull', async () => {
    const token = await tokenFor(registry, dave, ['registry:catalog:*']);
    const res = await call(registry, '/v2/_catalog', { token });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ repositories: ['team/app'] });
  });

  it('pages the catalog without revealing hidden names in the Link header', async () => {
    await new RegistryClient(registry.url, 'admin', registry.adminPassword).pushImage(
      'team/zeta',
      'v1',
    );
    const token = await tokenFor(registry, dave, ['registry:catalog:*']);
    const first = await call(registry, '/v2/_catalog?n=1', { token });

    expect(await first.json()).toEqual({ repositories: ['team/app'] });
    expect(first.headers.get('link')).toBe('</v2/_catalog?n=1&last=team%2Fapp>; rel="next"');
    const second = await call(registry, '/v2/_catalog?n=1&last=team%2Fapp', { token });
    expect(await second.json()).toEqual({ repositories: ['team/zeta'] });
    expect(second.headers.get('link')).toBeNull();
    const fromHidden = await call(registry, '/v2/_catalog?last=other', { token });
    expect(await fromHidden.json()).toEqual({ repositories: ['team/app', 'team/zeta'] });
  });

  it('lists every repository for an admin', async () => {
    const token = await tokenFor(registry, { name: 'admin', password: registry.adminPassword }, [
      'registry:catalog:*',
    ]);
    const res = await call(registry, '/v2/_catalog', { token });

    expect(((await res.json()) as { repositories: string[] }).repositories).toEqual([
      'other/tool',
      'secret/app',
      'team/app',
      'team/zeta',
    ]);
  });
});

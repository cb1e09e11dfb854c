import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { bearerChallenge, call } from './support/http.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const UPLOAD = '0b6c3d52-8d3e-4c55-9a43-3f8f2a6a1d10';

/**
 * Every `/v2/` endpoint, with the scope its challenge must name (PROTOCOLS.md §2.2). Upload
 * status (GET) and cancel (DELETE) on a session belong to pushing, so they ask for pull,push.
 */
const ROUTES: ReadonlyArray<[method: string, path: string, scope: string | undefined]> = [
  ['GET', '/v2/', undefined],
  ['GET', `/v2/team/app/blobs/${DIGEST}`, 'repository:team/app:pull'],
  ['HEAD', `/v2/team/app/blobs/${DIGEST}`, 'repository:team/app:pull'],
  ['DELETE', `/v2/team/app/blobs/${DIGEST}`, 'repository:team/app:delete'],
  ['GET', '/v2/team/app/manifests/v1', 'repository:team/app:pull'],
  ['HEAD', `/v2/team/app/manifests/${DIGEST}`, 'repository:team/app:pull'],
  ['PUT', '/v2/team/app/manifests/v1', 'repository:team/app:pull,push'],
  ['DELETE', '/v2/team/app/manifests/v1', 'repository:team/app:delete'],
  ['POST', '/v2/team/app/blobs/uploads/', 'repository:team/app:pull,push'],
  ['PATCH', `/v2/team/app/blobs/uploads/${UPLOAD}`, 'repository:team/app:pull,push'],
  ['PUT', `/v2/team/app/blobs/uploads/${UPLOAD}?digest=${DIGEST}`, 'repository:team/app:pull,push'],
  ['GET', `/v2/team/app/blobs/uploads/${UPLOAD}`, 'repository:team/app:pull,push'],
  ['DELETE', `/v2/team/app/blobs/uploads/${UPLOAD}`, 'repository:team/app:pull,push'],
  ['GET', '/v2/team/app/tags/list', 'repository:team/app:pull'],
  ['GET', `/v2/team/app/referrers/${DIGEST}`, 'repository:team/app:pull'],
  ['GET', '/v2/_catalog', 'registry:catalog:*'],
  ['GET', '/v2/team/tools/cli/manifests/latest', 'repository:team/tools/cli:pull'],
];

describe('/v2/ without a token', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry.close());

  it.each(ROUTES)('%s %s answers 401 with a Bearer challenge', async (method, path, scope) => {
    const res = await call(registry, path, {
      method,
      body: method === 'PUT' || method === 'PATCH' ? '{}' : undefined,
    });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(bearerChallenge(registry, scope));
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    if (method !== 'HEAD') {
      const body = (await res.json()) as { errors: Array<{ code: string }> };
      expect(body.errors[0]?.code).toBe('UNAUTHORIZED');
    }
  });

  it('never names a scope for a path that is not a valid repository', async () => {
    const res = await call(registry, '/v2/Team/App/manifests/v1');

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(bearerChallenge(registry));
  });

  it('challenges a Basic Authorization header as if there were none', async () => {
    const res = await call(registry, '/v2/team/app/manifests/v1', {
      headers: {
        Authorization: `Basic ${Buffer.from(`admin:${registry.adminPassword}`).toString('base64')}`,
      },
    });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge(registry, 'repository:team/app:pull'),
    );
  });
});

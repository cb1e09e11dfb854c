import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  addUser,
  call,
  digestOf,
  expectError,
  OCI_INDEX,
  OCI_MANIFEST,
  pushImage,
  pushReferrer,
  scopeOf,
  stopRegistry,
  uploadBlob,
} from './support/oci.js';

// end-1, the error envelope, 405s and the repository name grammar (PROTOCOLS.md §1.2, §1.11, §1.12).
let registry: TestRegistry;
let client: RegistryClient;
let reader: RegistryClient;

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  const rita = await addUser(registry, 'rita', [{ role: 'reader', namespace: 'other' }]);
  reader = new RegistryClient(registry.url, rita.name, rita.password);
});
afterAll(() => stopRegistry(registry));

describe('GET /v2/', () => {
  it('answers 200 with Docker-Distribution-API-Version: registry/2.0 to a token holder', async () => {
    const res = await client.request('/v2/', { scope: [] });
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    await res.arrayBuffer();
  });

  it('answers 401 UNAUTHORIZED with a Bearer challenge and the API version header without one', async () => {
    const res = await client.request('/v2/', { anonymous: true });
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(res.headers.get('www-authenticate') ?? '').toMatch(
      /^Bearer realm="[^"]+",service="[^"]+"/,
    );
    await expectError(res, 401, 'UNAUTHORIZED');
  });
});

describe('errors on /v2/<name>/…', () => {
  it('challenges an anonymous request with the scope it needs', async () => {
    const res = await client.request('/v2/team/app/manifests/latest', { anonymous: true });
    expect(res.headers.get('www-authenticate') ?? '').toContain('scope="repository:team/app:pull"');
    await expectError(res, 401, 'UNAUTHORIZED');
  });

  it('refuses a push by a caller who may only pull (401 insufficient scope or 403 DENIED)', async () => {
    const res = await reader.request('/v2/other/app/blobs/uploads/', {
      method: 'POST',
      scope: scopeOf('other/app', 'pull,push'),
    });
    if (res.status === 401) {
      expect(res.headers.get('www-authenticate') ?? '').toContain('insufficient_scope');
      await expectError(res, 401, 'UNAUTHORIZED');
    } else {
      await expectError(res, 403, 'DENIED');
    }
  });

  it('sends the API version header on error answers too', async () => {
    const res = await call(client, 'team/app', '/v2/team/app/manifests/latest');
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    await expectError(res, 404, 'NAME_UNKNOWN');
  });

  it('answers 404 in the envelope for a path that is no endpoint', async () => {
    await expectError(
      await call(client, 'team/app', '/v2/team/app/nothing-here'),
      404,
      'NOT_FOUND',
    );
  });

  it.each([
    ['PATCH', 'manifests/latest'],
    ['POST', 'manifests/latest'],
    ['PUT', `blobs/${digestOf('x')}`],
    ['POST', `blobs/${digestOf('x')}`],
    ['PUT', 'blobs/uploads/'],
    ['GET', 'blobs/uploads/'],
    ['DELETE', 'tags/list'],
    ['POST', 'tags/list'],
    ['DELETE', `referrers/${digestOf('x')}`],
  ])('answers 405 UNSUPPORTED to %s on %s', async (method, resource) => {
    await expectError(
      await call(client, 'team/app', `/v2/team/app/${resource}`, { method }),
      405,
      'UNSUPPORTED',
    );
  });

  it('answers 405 UNSUPPORTED to DELETE on /v2/_catalog', async () => {
    const res = await client.request('/v2/_catalog', {
      method: 'DELETE',
      scope: 'registry:catalog:*',
    });
    await expectError(res, 405, 'UNSUPPORTED');
  });
});

describe('repository names', () => {
  it.each([
    ['upper case', 'Team/App'],
    ['an empty component', 'a//b'],
    ['a leading dash', '-a'],
    ['a component starting with a dash', 'team/-a'],
    ['a trailing separator', 'team/a-'],
    ['two dots', 'a..b'],
    ['three underscores', 'a___b'],
    ['more than 255 characters', `team/${'a'.repeat(251)}`],
  ])('answers 400 NAME_INVALID for %s', async (_what, name) => {
    for (const [method, resource] of [
      ['GET', 'manifests/latest'],
      ['GET', 'tags/list'],
      ['POST', 'blobs/uploads/'],
      ['GET', `blobs/${digestOf('x')}`],
    ] as const) {
      const res = await client.request(`/v2/${name}/${resource}`, { method, scope: [] });
      await expectError(res, 400, 'NAME_INVALID');
    }
  });

  it.each(['a__b', 'a---b', 'a.b_c-d/e', '0/1', `team/${'a'.repeat(250)}`])(
    'accepts the valid name %s',
    async (name) => {
      const image = await pushImage(client, name, 'v1');
      const res = await call(client, name, `/v2/${name}/manifests/v1`);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(image.manifest);
    },
  );

  it.each(['team/blobs/manifests', 'blobs/uploads', 'manifests/tags/list', 'team/referrers'])(
    'serves every endpoint for %s, whose components are API words',
    async (name) => {
      const image = await pushImage(client, name, 'v1');
      const blob = await call(client, name, `/v2/${name}/blobs/${image.layer.digest}`);
      expect(blob.status).toBe(200);
      expect(blob.headers.get('docker-content-digest')).toBe(image.layer.digest);
      await blob.arrayBuffer();

      const manifest = await call(client, name, `/v2/${name}/manifests/v1`);
      expect(Buffer.from(await manifest.arrayBuffer())).toEqual(image.manifest);
      const tags = await call(client, name, `/v2/${name}/tags/list`);
      expect(await tags.json()).toEqual({ name, tags: ['v1'] });

      const subject = { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size };
      const referrer = await pushReferrer(client, name, subject, 'application/vnd.example.note');
      const referrers = await call(client, name, `/v2/${name}/referrers/${image.digest}`);
      expect(referrers.headers.get('content-type')).toBe(OCI_INDEX);
      expect(((await referrers.json()) as { manifests: unknown[] }).manifests).toEqual([referrer]);

      const location = (
        await call(client, name, `/v2/${name}/blobs/uploads/`, { method: 'POST' })
      ).headers.get('location')!;
      const chunk = randomBytes(10);
      const patched = await call(client, name, location, {
        method: 'PATCH',
        body: chunk,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-9' },
      });
      expect(patched.status).toBe(202);
      const status = await call(client, name, location);
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe('0-9');
      expect((await call(client, name, location, { method: 'DELETE' })).status).toBe(204);

      expect(
        (await call(client, name, `/v2/${name}/manifests/${referrer.digest}`, { method: 'DELETE' }))
          .status,
      ).toBe(202);
      expect(
        (await call(client, name, `/v2/${name}/manifests/v1`, { method: 'DELETE' })).status,
      ).toBe(202);
      expect(
        (await call(client, name, `/v2/${name}/blobs/${image.layer.digest}`, { method: 'DELETE' }))
          .status,
      ).toBe(202);
      await expectError(
        await call(client, name, `/v2/${name}/blobs/${image.layer.digest}`),
        404,
        'BLOB_UNKNOWN',
      );
    },
  );

  it('keeps a repository and one named after it plus an API word apart', async () => {
    const bytes = randomBytes(20);
    const digest = await uploadBlob(client, 'team/x/blobs', bytes);
    await expectError(
      await call(client, 'team/x', `/v2/team/x/blobs/${digest}`),
      404,
      'BLOB_UNKNOWN',
    );
    const res = await call(client, 'team/x/blobs', `/v2/team/x/blobs/blobs/${digest}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  call,
  digestOf,
  expectError,
  OCI_INDEX,
  OCI_MANIFEST,
  pushImage,
  pushReferrer,
  putManifest,
  restartRegistry,
  startUpload,
  stopRegistry,
  withQuery,
} from './support/oci.js';

// One push / pull / list / delete / referrers pass over each metadata engine. When PostgreSQL is
// unreachable the helper prints a loud notice and the PostgreSQL block is reported as skipped.
const engines = [
  { engine: 'sqlite' as const, available: true },
  { engine: 'postgres' as const, available: await postgresAvailable() },
];

for (const { engine, available } of engines) {
  describe.skipIf(!available)(`OCI endpoints on the ${engine} metadata store`, () => {
    let registry: TestRegistry;
    let client: RegistryClient;
    const repo = 'team/engine';

    beforeAll(async () => {
      registry = await startRegistry({ engine });
      client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    });
    afterAll(() => stopRegistry(registry));

    it('uploads in chunks and serves the blob whole and in ranges', async () => {
      const bytes = randomBytes(5000);
      const digest = digestOf(bytes);
      const location = await startUpload(client, repo);
      const first = await call(client, repo, location, {
        method: 'PATCH',
        body: bytes.subarray(0, 4000),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-3999' },
      });
      expect(first.status).toBe(202);
      expect(first.headers.get('range')).toBe('0-3999');
      const done = await call(client, repo, withQuery(first.headers.get('location')!, { digest }), {
        method: 'PUT',
        body: bytes.subarray(4000),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '4000-4999' },
      });
      expect(done.status).toBe(201);
      expect(done.headers.get('docker-content-digest')).toBe(digest);

      const whole = await call(client, repo, `/v2/${repo}/blobs/${digest}`);
      expect(Buffer.from(await whole.arrayBuffer())).toEqual(bytes);
      const part = await call(client, repo, `/v2/${repo}/blobs/${digest}`, {
        headers: { Range: 'bytes=4990-' },
      });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe('bytes 4990-4999/5000');
      expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(4990));
    });

    it('resumes an upload session after a restart', async () => {
      const bytes = randomBytes(3000);
      const location = await startUpload(client, repo);
      const first = await call(client, repo, location, {
        method: 'PATCH',
        body: bytes.subarray(0, 1000),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-999' },
      });
      expect(first.status).toBe(202);
      await restartRegistry(registry);

      const status = await call(client, repo, location);
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe('0-999');
      const done = await call(
        client,
        repo,
        withQuery(status.headers.get('location')!, { digest: digestOf(bytes) }),
        {
          method: 'PUT',
          body: bytes.subarray(1000),
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '1000-2999' },
        },
      );
      expect(done.status, await done.clone().text()).toBe(201);
      const back = await call(client, repo, `/v2/${repo}/blobs/${digestOf(bytes)}`);
      expect(Buffer.from(await back.arrayBuffer())).toEqual(bytes);
    });

    it('pushes and pulls an image and an index, by tag and by digest', async () => {
      const image = await pushImage(client, repo, 'v1');
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: OCI_MANIFEST, digest: image.digest, size: image.size }],
        }),
      );
      expect((await putManifest(client, repo, 'multi', index, OCI_INDEX)).status).toBe(201);

      for (const [reference, bytes, type] of [
        ['v1', image.manifest, OCI_MANIFEST],
        [image.digest, image.manifest, OCI_MANIFEST],
        ['multi', index, OCI_INDEX],
      ] as const) {
        const res = await call(client, repo, `/v2/${repo}/manifests/${reference}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe(type);
        expect(res.headers.get('docker-content-digest')).toBe(digestOf(bytes));
        expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
      }
      const head = await call(client, repo, `/v2/${repo}/manifests/v1`, { method: 'HEAD' });
      expect(head.headers.get('content-length')).toBe(String(image.size));
      await expectError(
        await call(client, repo, `/v2/${repo}/manifests/nope`),
        404,
        'MANIFEST_UNKNOWN',
      );
    });

    it('lists tags in pages linked by Link headers', async () => {
      const listed = 'team/engine-tags';
      const image = await pushImage(client, listed, 'c');
      for (const tag of ['a', 'e', 'b', 'd'])
        expect((await putManifest(client, listed, tag, image.manifest, OCI_MANIFEST)).status).toBe(
          201,
        );
      const first = await call(client, listed, `/v2/${listed}/tags/list?n=3`);
      expect(await first.json()).toEqual({ name: listed, tags: ['a', 'b', 'c'] });
      expect(first.headers.get('link')).toBe(`</v2/${listed}/tags/list?n=3&last=c>; rel="next"`);
      const second = await call(client, listed, `/v2/${listed}/tags/list?n=3&last=c`);
      expect(await second.json()).toEqual({ name: listed, tags: ['d', 'e'] });
      expect(second.headers.get('link')).toBeNull();
    });

    it('lists referrers, filters them, and forgets deleted ones', async () => {
      const image = await pushImage(client, repo, 'referred');
      const subject = { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size };
      const signature = await pushReferrer(
        client,
        repo,
        subject,
        'application/vnd.example.signature',
        { 'org.example.k': 'v' },
      );
      const sbom = await pushReferrer(client, repo, subject, 'application/vnd.example.sbom');

      const all = await call(client, repo, `/v2/${repo}/referrers/${image.digest}`);
      expect(all.headers.get('content-type')).toBe(OCI_INDEX);
      const listed = ((await all.json()) as { manifests: Array<{ digest: string }> }).manifests;
      expect([...listed].sort((a, b) => a.digest.localeCompare(b.digest))).toEqual(
        [signature, sbom].sort((a, b) => a.digest.localeCompare(b.digest)),
      );
      const filtered = await call(
        client,
        repo,
        `/v2/${repo}/referrers/${image.digest}?artifactType=application%2Fvnd.example.sbom`,
      );
      expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
      expect(((await filtered.json()) as { manifests: unknown[] }).manifests).toEqual([sbom]);

      expect(
        (await call(client, repo, `/v2/${repo}/manifests/${sbom.digest}`, { method: 'DELETE' }))
          .status,
      ).toBe(202);
      const after = await call(client, repo, `/v2/${repo}/referrers/${image.digest}`);
      expect(((await after.json()) as { manifests: unknown[] }).manifests).toEqual([signature]);
    });

    it('mounts a blob from another repository', async () => {
      const image = await pushImage(client, repo, 'mount-source');
      const target = 'team/engine-mounted';
      const query = new URLSearchParams({ mount: image.layer.digest, from: repo });
      const res = await client.request(`/v2/${target}/blobs/uploads/?${query}`, {
        method: 'POST',
        scope: [`repository:${target}:pull,push`, `repository:${repo}:pull`],
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe(`/v2/${target}/blobs/${image.layer.digest}`);
    });

    it('deletes a tag, a manifest with its tags, and a blob', async () => {
      const image = await pushImage(client, repo, 'gone-1');
      expect((await putManifest(client, repo, 'gone-2', image.manifest, OCI_MANIFEST)).status).toBe(
        201,
      );
      expect(
        (await call(client, repo, `/v2/${repo}/manifests/gone-1`, { method: 'DELETE' })).status,
      ).toBe(202);
      await expectError(
        await call(client, repo, `/v2/${repo}/manifests/gone-1`),
        404,
        'MANIFEST_UNKNOWN',
      );
      expect((await call(client, repo, `/v2/${repo}/manifests/gone-2`)).status).toBe(200);

      expect(
        (await call(client, repo, `/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' }))
          .status,
      ).toBe(202);
      await expectError(
        await call(client, repo, `/v2/${repo}/manifests/${image.digest}`),
        404,
        'MANIFEST_UNKNOWN',
      );
      await expectError(
        await call(client, repo, `/v2/${repo}/manifests/gone-2`),
        404,
        'MANIFEST_UNKNOWN',
      );

      expect(
        (await call(client, repo, `/v2/${repo}/blobs/${image.layer.digest}`, { method: 'DELETE' }))
          .status,
      ).toBe(202);
      await expectError(
        await call(client, repo, `/v2/${repo}/blobs/${image.layer.digest}`),
        404,
        'BLOB_UNKNOWN',
      );
    });

    it('lists the repositories in the catalog', async () => {
      const res = await client.request('/v2/_catalog?n=2', { scope: 'registry:catalog:*' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ repositories: ['team/engine', 'team/engine-mounted'] });
      expect(res.headers.get('link')).toBe(
        '</v2/_catalog?n=2&last=team%2Fengine-mounted>; rel="next"',
      );
    });
  });
}

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  call,
  digestOf,
  expectError,
  OCI_MANIFEST,
  pushImage,
  putManifest,
  stopRegistry,
} from './support/oci.js';

// end-9 (PROTOCOLS.md §1.9); blob deletes (end-10) are in blob-pull.test.ts.
let registry: TestRegistry;
let client: RegistryClient;
const repo = 'team/deletes';

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
});
afterAll(() => stopRegistry(registry));

const requestManifest = (reference: string, method = 'GET', repository = repo) =>
  call(client, repository, `/v2/${repository}/manifests/${reference}`, { method });

async function listTags(): Promise<string[]> {
  const res = await call(client, repo, `/v2/${repo}/tags/list`);

  return ((await res.json()) as { tags: string[] }).tags;
}

describe('DELETE /v2/:name/manifests/:reference', () => {
  it('deletes a tag with 202 and leaves the manifest and its other tags', async () => {
    const image = await pushImage(client, repo, 'tag-a');
    expect((await putManifest(client, repo, 'tag-b', image.manifest, OCI_MANIFEST)).status).toBe(
      201,
    );

    const res = await requestManifest('tag-a', 'DELETE');
    expect(res.status).toBe(202);
    await res.arrayBuffer();
    await expectError(await requestManifest('tag-a'), 404, 'MANIFEST_UNKNOWN');
    expect((await requestManifest('tag-a', 'HEAD')).status).toBe(404);

    const byDigest = await requestManifest(image.digest);
    expect(byDigest.status).toBe(200);
    expect(Buffer.from(await byDigest.arrayBuffer())).toEqual(image.manifest);
    expect((await requestManifest('tag-b')).status).toBe(200);
    expect(await listTags()).not.toContain('tag-a');
  });

  it('deletes a manifest by digest with 202, after which the digest and all its tags are 404', async () => {
    const image = await pushImage(client, repo, 'doomed-1');
    expect((await putManifest(client, repo, 'doomed-2', image.manifest, OCI_MANIFEST)).status).toBe(
      201,
    );

    const res = await requestManifest(image.digest, 'DELETE');
    expect(res.status).toBe(202);
    await res.arrayBuffer();
    await expectError(await requestManifest(image.digest), 404, 'MANIFEST_UNKNOWN');
    expect((await requestManifest(image.digest, 'HEAD')).status).toBe(404);
    await expectError(await requestManifest('doomed-1'), 404, 'MANIFEST_UNKNOWN');
    await expectError(await requestManifest('doomed-2'), 404, 'MANIFEST_UNKNOWN');
    const left = await listTags();
    expect(left).not.toContain('doomed-1');
    expect(left).not.toContain('doomed-2');
  });

  it('answers 404 MANIFEST_UNKNOWN when deleting the same manifest twice', async () => {
    const image = await pushImage(client, repo, 'twice');
    expect((await requestManifest(image.digest, 'DELETE')).status).toBe(202);
    await expectError(await requestManifest(image.digest, 'DELETE'), 404, 'MANIFEST_UNKNOWN');
    await expectError(await requestManifest('twice', 'DELETE'), 404, 'MANIFEST_UNKNOWN');
  });

  it('answers 404 for an unknown tag or digest', async () => {
    await pushImage(client, repo, 'present');
    await expectError(await requestManifest('absent', 'DELETE'), 404, 'MANIFEST_UNKNOWN');
    await expectError(
      await requestManifest(digestOf(randomBytes(8)), 'DELETE'),
      404,
      'MANIFEST_UNKNOWN',
    );
  });

  it('answers 404 in a repository that does not exist', async () => {
    const res = await requestManifest('v1', 'DELETE', 'team/deletes-never');
    await expectError(res, 404, ['NAME_UNKNOWN', 'MANIFEST_UNKNOWN']);
  });

  it('answers 400 for a malformed digest', async () => {
    await expectError(
      await requestManifest('sha256:totallywrong', 'DELETE'),
      400,
      'DIGEST_INVALID',
    );
  });

  it('lets a deleted manifest be pushed again', async () => {
    const image = await pushImage(client, repo, 'phoenix');
    expect((await requestManifest(image.digest, 'DELETE')).status).toBe(202);
    const res = await putManifest(client, repo, 'phoenix', image.manifest, OCI_MANIFEST);
    expect(res.status).toBe(201);
    const back = await requestManifest('phoenix');
    expect(back.headers.get('docker-content-digest')).toBe(image.digest);
    expect(Buffer.from(await back.arrayBuffer())).toEqual(image.manifest);
  });

  it('does not touch the same digest in another repository', async () => {
    const image = await pushImage(client, repo, 'shared');
    const other = 'team/deletes-other';
    for (const digest of [image.config.digest, image.layer.digest]) {
      const query = new URLSearchParams({ mount: digest, from: repo });
      const mounted = await client.request(`/v2/${other}/blobs/uploads/?${query}`, {
        method: 'POST',
        scope: [`repository:${other}:pull,push,delete`, `repository:${repo}:pull`],
      });
      expect(mounted.status).toBe(201);
    }
    expect((await putManifest(client, other, 'shared', image.manifest, OCI_MANIFEST)).status).toBe(
      201,
    );

    expect((await requestManifest(image.digest, 'DELETE')).status).toBe(202);
    const res = await requestManifest('shared', 'GET', other);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(image.manifest);
  });
});

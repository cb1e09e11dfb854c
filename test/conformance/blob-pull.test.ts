import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  call,
  digestOf,
  EMPTY_BLOB_DIGEST,
  expectError,
  stopRegistry,
  uploadBlob,
} from './support/oci.js';

// end-2 and end-10 of the OCI Distribution Spec (PROTOCOLS.md §1.2, §1.9, §1.13).
let registry: TestRegistry;
let client: RegistryClient;
const repo = 'team/blob-pull';
const blob = randomBytes(100);
let digest: string;

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  digest = await uploadBlob(client, repo, blob);
});
afterAll(() => stopRegistry(registry));

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  call(client, repo, `/v2/${repo}/blobs/${path}`, { method, headers });

describe('GET /v2/:name/blobs/:digest', () => {
  it('returns the exact bytes with Content-Length and Docker-Content-Digest', async () => {
    const res = await get(digest);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('100');
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob);
  });

  it('answers 404 BLOB_UNKNOWN for a well-formed digest the repository does not hold', async () => {
    await expectError(await get(digestOf(randomBytes(8))), 404, 'BLOB_UNKNOWN');
  });

  it.each([
    ['garbage after the algorithm', 'sha256:totallywrong'],
    ['upper-case hex', `sha256:${'A'.repeat(64)}`],
    ['a hex part of the wrong length', `sha256:${'a'.repeat(63)}`],
    ['a sha512 digest of sha256 length', `sha512:${'a'.repeat(64)}`],
    ['an unsupported algorithm', `md5:${'a'.repeat(32)}`],
    ['no algorithm', 'a'.repeat(64)],
  ])('answers 400 DIGEST_INVALID for %s', async (_what, bad) => {
    await expectError(await get(bad), 400, 'DIGEST_INVALID');
  });

  it('serves a closed byte range with 206 and Content-Range bytes a-b/total', async () => {
    const res = await get(digest, { Range: 'bytes=10-19' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 10-19/100');
    expect(res.headers.get('content-length')).toBe('10');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob.subarray(10, 20));
  });

  it('serves a suffix range bytes=-10 as the last ten bytes', async () => {
    const res = await get(digest, { Range: 'bytes=-10' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 90-99/100');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob.subarray(90));
  });

  it('serves an open range bytes=5- up to the end', async () => {
    const res = await get(digest, { Range: 'bytes=5-' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 5-99/100');
    expect(res.headers.get('content-length')).toBe('95');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob.subarray(5));
  });

  it('clamps a range whose end lies past the blob to the last byte', async () => {
    const res = await get(digest, { Range: 'bytes=95-500' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 95-99/100');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob.subarray(95));
  });

  it('serves a suffix range longer than the blob as the whole blob', async () => {
    const res = await get(digest, { Range: 'bytes=-500' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 0-99/100');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob);
  });

  it('reads the range unit case-insensitively (RFC 9110 §14.1)', async () => {
    const res = await get(digest, { Range: 'Bytes=0-9' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 0-9/100');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob.subarray(0, 10));
  });

  it('ignores a Range header in a unit it does not know and serves the whole blob (RFC 9110 §14.2)', async () => {
    const res = await get(digest, { Range: 'items=0-9' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBeNull();
    expect(Buffer.from(await res.arrayBuffer())).toEqual(blob);
  });

  it('answers 416 with Content-Range bytes */size for a range starting past the end', async () => {
    const res = await get(digest, { Range: 'bytes=100-200' });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */100');
    await res.arrayBuffer();
  });

  it('answers 416 for a range whose end is before its start', async () => {
    const res = await get(digest, { Range: 'bytes=20-10' });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */100');
    await res.arrayBuffer();
  });

  it('stores and serves a sha512 blob under its sha512 digest', async () => {
    const bytes = randomBytes(300);
    const d512 = await uploadBlob(client, repo, bytes, 'sha512');
    expect(d512).toMatch(/^sha512:[a-f0-9]{128}$/);
    const res = await get(d512);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(d512);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });

  it('stores and serves the zero-byte blob', async () => {
    expect(await uploadBlob(client, repo, Buffer.alloc(0))).toBe(EMPTY_BLOB_DIGEST);
    const res = await get(EMPTY_BLOB_DIGEST);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('0');
    expect(res.headers.get('docker-content-digest')).toBe(EMPTY_BLOB_DIGEST);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('does not serve a blob through a repository that never received it', async () => {
    const other = 'team/blob-pull-elsewhere';
    await uploadBlob(client, other, randomBytes(10));
    await expectError(
      await call(client, other, `/v2/${other}/blobs/${digest}`),
      404,
      'BLOB_UNKNOWN',
    );
  });
});

describe('HEAD /v2/:name/blobs/:digest', () => {
  it('answers the same headers as GET and no body', async () => {
    const head = await get(digest, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('100');
    expect(head.headers.get('docker-content-digest')).toBe(digest);
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const full = await get(digest);
    await full.arrayBuffer();
    for (const name of ['content-length', 'content-type', 'docker-content-digest']) {
      expect(head.headers.get(name), name).toBe(full.headers.get(name));
    }
  });

  it('answers 404 without a body for an unknown blob', async () => {
    const res = await get(digestOf(randomBytes(8)), {}, 'HEAD');
    expect(res.status).toBe(404);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 400 for a malformed digest', async () => {
    const res = await get('sha256:totallywrong', {}, 'HEAD');
    expect(res.status).toBe(400);
    await res.arrayBuffer();
  });

  it('reports Content-Length 0 for the zero-byte blob', async () => {
    await uploadBlob(client, repo, Buffer.alloc(0));
    const res = await get(EMPTY_BLOB_DIGEST, {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('0');
    expect(res.headers.get('docker-content-digest')).toBe(EMPTY_BLOB_DIGEST);
  });
});

describe('DELETE /v2/:name/blobs/:digest', () => {
  it('answers 202 and the blob is then 404 BLOB_UNKNOWN', async () => {
    const victim = await uploadBlob(client, repo, randomBytes(40));
    const res = await get(victim, {}, 'DELETE');
    expect(res.status).toBe(202);
    await res.arrayBuffer();
    await expectError(await get(victim), 404, 'BLOB_UNKNOWN');
    expect((await get(victim, {}, 'HEAD')).status).toBe(404);
  });

  it('answers 404 BLOB_UNKNOWN for a blob the repository does not hold', async () => {
    await expectError(await get(digestOf(randomBytes(8)), {}, 'DELETE'), 404, 'BLOB_UNKNOWN');
  });

  it('answers 400 DIGEST_INVALID for a malformed digest', async () => {
    await expectError(await get('sha256:totallywrong', {}, 'DELETE'), 400, 'DIGEST_INVALID');
  });

  it('removes the blob from one repository only', async () => {
    const bytes = randomBytes(30);
    const shared = await uploadBlob(client, repo, bytes);
    const other = 'team/blob-pull-keeper';
    await uploadBlob(client, other, bytes);
    expect((await get(shared, {}, 'DELETE')).status).toBe(202);
    const res = await call(client, other, `/v2/${other}/blobs/${shared}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });
});

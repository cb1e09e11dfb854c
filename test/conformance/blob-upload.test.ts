import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  call,
  digestOf,
  EMPTY_BLOB_DIGEST,
  expectError,
  startUpload,
  stopRegistry,
  withQuery,
} from './support/oci.js';

// end-4a/4b/4c, end-5, end-6, end-13 and end-14 (PROTOCOLS.md §1.2–1.4).
let registry: TestRegistry;
let client: RegistryClient;
const repo = 'team/uploads';

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
});
afterAll(() => stopRegistry(registry));

const octets = { 'Content-Type': 'application/octet-stream' };

function patch(
  location: string,
  bytes: Buffer | ReadableStream<Uint8Array>,
  range?: string,
  repository = repo,
) {
  const headers: Record<string, string> =
    range === undefined ? { ...octets } : { ...octets, 'Content-Range': range };

  return call(client, repository, location, { method: 'PATCH', body: bytes, headers });
}

function put(
  location: string,
  digest: string,
  bytes?: Buffer,
  headers: Record<string, string> = {},
  repository = repo,
) {
  return call(client, repository, withQuery(location, { digest }), {
    method: 'PUT',
    ...(bytes ? { body: bytes } : {}),
    headers: { ...octets, ...headers },
  });
}

async function expectBlob(digest: string, bytes: Buffer, repository = repo): Promise<void> {
  const res = await call(client, repository, `/v2/${repository}/blobs/${digest}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('docker-content-digest')).toBe(digest);
  expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
}

async function expectNoBlob(digest: string, repository = repo): Promise<void> {
  await expectError(
    await call(client, repository, `/v2/${repository}/blobs/${digest}`),
    404,
    'BLOB_UNKNOWN',
  );
}

async function expectCreated(res: Response, digest: string, repository = repo): Promise<void> {
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get('location')).toBe(`/v2/${repository}/blobs/${digest}`);
  expect(res.headers.get('docker-content-digest')).toBe(digest);
  await res.arrayBuffer();
}

function toStream(...pieces: Buffer[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(new Uint8Array(piece));
      controller.close();
    },
  });
}

describe('POST /v2/:name/blobs/uploads/', () => {
  it('opens a session with 202, a Location under the repository and Docker-Upload-UUID', async () => {
    const res = await call(client, repo, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(202);
    const location = res.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^/v2/${repo}/blobs/uploads/[^/?]+`));
    expect(location).toContain(res.headers.get('docker-upload-uuid')!);
    await res.arrayBuffer();
  });

  it('completes a monolithic upload with POST then PUT carrying the whole blob', async () => {
    const bytes = randomBytes(2048);
    const digest = digestOf(bytes);
    const location = await startUpload(client, repo);
    await expectCreated(await put(location, digest, bytes), digest);
    await expectBlob(digest, bytes);
  });

  it('accepts a whole blob in a single POST with ?digest= (201)', async () => {
    const bytes = randomBytes(777);
    const digest = digestOf(bytes);
    const res = await call(client, repo, `/v2/${repo}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: bytes,
      headers: octets,
    });
    await expectCreated(res, digest);
    await expectBlob(digest, bytes);
  });

  it('refuses a single POST whose body does not match ?digest= and keeps nothing', async () => {
    const bytes = randomBytes(64);
    const claimed = digestOf(randomBytes(64));
    const res = await call(client, repo, `/v2/${repo}/blobs/uploads/?digest=${claimed}`, {
      method: 'POST',
      body: bytes,
      headers: octets,
    });
    await expectError(res, 400, 'DIGEST_INVALID');
    await expectNoBlob(claimed);
    await expectNoBlob(digestOf(bytes));
  });

  it('refuses a malformed ?digest= with 400 DIGEST_INVALID', async () => {
    const res = await call(client, repo, `/v2/${repo}/blobs/uploads/?digest=sha256:nothex`, {
      method: 'POST',
      body: randomBytes(4),
      headers: octets,
    });
    await expectError(res, 400, 'DIGEST_INVALID');
  });

  it('runs a chunked upload in sha512 when opened with ?digest-algorithm=sha512', async () => {
    const bytes = randomBytes(3000);
    const digest = digestOf(bytes, 'sha512');
    const location = await startUpload(client, repo, '?digest-algorithm=sha512');
    const first = await patch(location, bytes.subarray(0, 1000), '0-999');
    expect(first.status).toBe(202);
    const second = await patch(first.headers.get('location')!, bytes.subarray(1000), '1000-2999');
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe('0-2999');
    await expectCreated(await put(second.headers.get('location')!, digest), digest);
    await expectBlob(digest, bytes);
  });

  it('refuses an unsupported ?digest-algorithm= with 400 DIGEST_INVALID', async () => {
    const res = await call(client, repo, `/v2/${repo}/blobs/uploads/?digest-algorithm=md5`, {
      method: 'POST',
    });
    await expectError(res, 400, 'DIGEST_INVALID');
  });
});

describe('PATCH /v2/:name/blobs/uploads/:reference', () => {
  it('accepts in-order chunks with 202, Range 0-<end>, Location and Docker-Upload-UUID', async () => {
    const bytes = randomBytes(300);
    const digest = digestOf(bytes);
    let location = await startUpload(client, repo);
    for (const [start, end] of [
      [0, 99],
      [100, 199],
      [200, 299],
    ] as const) {
      const res = await patch(location, bytes.subarray(start, end + 1), `${start}-${end}`);
      expect(res.status, await res.clone().text()).toBe(202);
      expect(res.headers.get('range')).toBe(`0-${end}`);
      expect(res.headers.get('docker-upload-uuid')).toBeTruthy();
      location = res.headers.get('location')!;
      expect(location).toMatch(new RegExp(`^/v2/${repo}/blobs/uploads/`));
      await res.arrayBuffer();
    }
    await expectCreated(await put(location, digest), digest);
    await expectBlob(digest, bytes);
  });

  it('carries a multi-megabyte blob in chunks intact', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 17);
    const digest = digestOf(bytes);
    let location = await startUpload(client, repo);
    for (let start = 0; start < bytes.length; start += 4 * 1024 * 1024) {
      const end = Math.min(start + 4 * 1024 * 1024, bytes.length) - 1;
      const res = await patch(location, bytes.subarray(start, end + 1), `${start}-${end}`);
      expect(res.status).toBe(202);
      expect(res.headers.get('range')).toBe(`0-${end}`);
      location = res.headers.get('location')!;
    }
    await expectCreated(await put(location, digest), digest);
    const res = await call(client, repo, `/v2/${repo}/blobs/${digest}`);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 416 to a chunk that leaves a gap, and keeps what it had', async () => {
    const location = await startUpload(client, repo);
    expect((await patch(location, randomBytes(10), '0-9')).status).toBe(202);
    const gap = await patch(location, randomBytes(10), '20-29');
    expect(gap.status).toBe(416);
    await gap.arrayBuffer();
    const status = await call(client, repo, location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-9');
  });

  it('answers 416 to a chunk sent again, then resumes after an upload-status GET', async () => {
    const bytes = randomBytes(60);
    const digest = digestOf(bytes);
    const location = await startUpload(client, repo);
    expect((await patch(location, bytes.subarray(0, 20), '0-19')).status).toBe(202);
    expect((await patch(location, bytes.subarray(20, 40), '20-39')).status).toBe(202);
    const again = await patch(location, bytes.subarray(20, 40), '20-39');
    expect(again.status).toBe(416);
    await again.arrayBuffer();

    const status = await call(client, repo, location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-39');
    const resumeAt = Number(status.headers.get('range')!.split('-')[1]) + 1;
    const next = status.headers.get('location')!;
    const rest = await patch(next, bytes.subarray(resumeAt), `${resumeAt}-59`);
    expect(rest.status).toBe(202);
    expect(rest.headers.get('range')).toBe('0-59');
    await expectCreated(await put(rest.headers.get('location')!, digest), digest);
    await expectBlob(digest, bytes);
  });

  it('accepts only one of two concurrent chunks for the same range', async () => {
    const location = await startUpload(client, repo);
    const [a, b] = await Promise.all([
      patch(location, randomBytes(10), '0-9'),
      patch(location, randomBytes(10), '0-9'),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 416]);
    await a.arrayBuffer();
    await b.arrayBuffer();
    const status = await call(client, repo, location);
    expect(status.headers.get('range')).toBe('0-9');
  });

  it('appends a streamed body sent without Content-Range or Content-Length', async () => {
    const parts = [randomBytes(1000), randomBytes(500), randomBytes(1)];
    const whole = Buffer.concat(parts);
    const digest = digestOf(whole);
    const location = await startUpload(client, repo);
    const first = await patch(location, toStream(parts[0]!, parts[1]!));
    expect(first.status, await first.clone().text()).toBe(202);
    expect(first.headers.get('range')).toBe('0-1499');
    const second = await patch(first.headers.get('location')!, toStream(parts[2]!));
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe('0-1500');
    await expectCreated(await put(second.headers.get('location')!, digest), digest);
    await expectBlob(digest, whole);
  });

  it('answers 400 SIZE_INVALID when Content-Length disagrees with Content-Range', async () => {
    const location = await startUpload(client, repo);
    expect((await patch(location, randomBytes(10), '0-9')).status).toBe(202);
    await expectError(await patch(location, randomBytes(5), '10-19'), 400, 'SIZE_INVALID');
    const status = await call(client, repo, location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-9');
  });

  it('refuses a Content-Range that is not <start>-<end>', async () => {
    const location = await startUpload(client, repo);
    const res = await patch(location, randomBytes(10), 'ten bytes');
    expect([400, 416]).toContain(res.status);
    await res.arrayBuffer();
  });

  it('answers 404 BLOB_UPLOAD_UNKNOWN for an unknown session', async () => {
    const unknown = `/v2/${repo}/blobs/uploads/00000000-0000-4000-8000-000000000000`;
    await expectError(await patch(unknown, randomBytes(4), '0-3'), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(
      await patch(`/v2/${repo}/blobs/uploads/not-a-session`, randomBytes(4)),
      404,
      'BLOB_UPLOAD_UNKNOWN',
    );
  });

  it('does not let a session opened on one repository be used through another', async () => {
    const location = await startUpload(client, repo);
    const id = location.split('/').at(-1)!.split('?')[0]!;
    const elsewhere = 'team/uploads-elsewhere';
    const foreign = `/v2/${elsewhere}/blobs/uploads/${id}`;
    await expectError(
      await patch(foreign, randomBytes(4), '0-3', elsewhere),
      404,
      'BLOB_UPLOAD_UNKNOWN',
    );
    await expectError(await call(client, elsewhere, foreign), 404, 'BLOB_UPLOAD_UNKNOWN');
    const bytes = randomBytes(4);
    await expectError(
      await put(foreign, digestOf(bytes), bytes, {}, elsewhere),
      404,
      'BLOB_UPLOAD_UNKNOWN',
    );
    await expectError(
      await call(client, elsewhere, foreign, { method: 'DELETE' }),
      404,
      'BLOB_UPLOAD_UNKNOWN',
    );
    expect((await call(client, repo, location)).status).toBe(204);
  });
});

describe('PUT /v2/:name/blobs/uploads/:reference', () => {
  it('closes the session with a last chunk in its body', async () => {
    const bytes = randomBytes(200);
    const digest = digestOf(bytes);
    const location = await startUpload(client, repo);
    const first = await patch(location, bytes.subarray(0, 150), '0-149');
    expect(first.status).toBe(202);
    const res = await put(first.headers.get('location')!, digest, bytes.subarray(150), {
      'Content-Range': '150-199',
    });
    await expectCreated(res, digest);
    await expectBlob(digest, bytes);
  });

  it('appends a last chunk sent without Content-Range after earlier chunks', async () => {
    const bytes = randomBytes(200);
    const digest = digestOf(bytes);
    const location = await startUpload(client, repo);
    expect((await patch(location, bytes.subarray(0, 120), '0-119')).status).toBe(202);
    await expectCreated(await put(location, digest, bytes.subarray(120)), digest);
    await expectBlob(digest, bytes);
  });

  it('answers 416 to a last chunk that does not start where the upload ends', async () => {
    const bytes = randomBytes(200);
    const location = await startUpload(client, repo);
    expect((await patch(location, bytes.subarray(0, 100), '0-99')).status).toBe(202);
    const res = await put(location, digestOf(bytes), bytes.subarray(120), {
      'Content-Range': '120-199',
    });
    expect(res.status).toBe(416);
    await res.arrayBuffer();
    await expectNoBlob(digestOf(bytes));
  });

  it('answers 400 DIGEST_INVALID when the content does not match, and keeps no blob', async () => {
    const bytes = randomBytes(128);
    const claimed = digestOf(randomBytes(128));
    const location = await startUpload(client, repo);
    await expectError(await put(location, claimed, bytes), 400, 'DIGEST_INVALID');
    await expectNoBlob(claimed);
    await expectNoBlob(digestOf(bytes));
  });

  it('answers 400 DIGEST_INVALID when a sha512 digest does not match', async () => {
    const bytes = randomBytes(128);
    const claimed = digestOf(randomBytes(128), 'sha512');
    const location = await startUpload(client, repo);
    await expectError(await put(location, claimed, bytes), 400, 'DIGEST_INVALID');
    await expectNoBlob(claimed);
  });

  it('answers 400 when the digest query parameter is missing', async () => {
    const location = await startUpload(client, repo);
    const res = await call(client, repo, location, {
      method: 'PUT',
      body: randomBytes(8),
      headers: octets,
    });
    await expectError(res, 400, 'DIGEST_INVALID');
  });

  it('answers 400 DIGEST_INVALID for a malformed digest', async () => {
    const location = await startUpload(client, repo);
    await expectError(
      await put(location, 'sha256:totallywrong', randomBytes(8)),
      400,
      'DIGEST_INVALID',
    );
  });

  it('stores the zero-byte blob from an empty PUT', async () => {
    const location = await startUpload(client, repo);
    await expectCreated(await put(location, EMPTY_BLOB_DIGEST), EMPTY_BLOB_DIGEST);
    await expectBlob(EMPTY_BLOB_DIGEST, Buffer.alloc(0));
  });

  it('stores the zero-byte blob from a single POST with ?digest=', async () => {
    const res = await call(
      client,
      'team/uploads-empty',
      `/v2/team/uploads-empty/blobs/uploads/?digest=${EMPTY_BLOB_DIGEST}`,
      {
        method: 'POST',
        body: Buffer.alloc(0),
        headers: octets,
      },
    );
    await expectCreated(res, EMPTY_BLOB_DIGEST, 'team/uploads-empty');
    await expectBlob(EMPTY_BLOB_DIGEST, Buffer.alloc(0), 'team/uploads-empty');
  });

  it('answers 404 BLOB_UPLOAD_UNKNOWN once the session is closed', async () => {
    const bytes = randomBytes(16);
    const location = await startUpload(client, repo);
    await expectCreated(await put(location, digestOf(bytes), bytes), digestOf(bytes));
    await expectError(await put(location, digestOf(bytes), bytes), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await call(client, repo, location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('GET /v2/:name/blobs/uploads/:reference', () => {
  it('answers 204 with Location, Range and Docker-Upload-UUID', async () => {
    const location = await startUpload(client, repo);
    expect((await patch(location, randomBytes(42), '0-41')).status).toBe(202);
    const res = await call(client, repo, location);
    expect(res.status).toBe(204);
    expect(res.headers.get('range')).toBe('0-41');
    expect(res.headers.get('location')).toMatch(new RegExp(`^/v2/${repo}/blobs/uploads/`));
    expect(location).toContain(res.headers.get('docker-upload-uuid')!);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 404 BLOB_UPLOAD_UNKNOWN for an unknown session', async () => {
    const unknown = `/v2/${repo}/blobs/uploads/00000000-0000-4000-8000-000000000000`;
    await expectError(await call(client, repo, unknown), 404, 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('DELETE /v2/:name/blobs/uploads/:reference', () => {
  it('cancels the session with 204, after which it is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const location = await startUpload(client, repo);
    expect((await patch(location, randomBytes(10), '0-9')).status).toBe(202);
    const res = await call(client, repo, location, { method: 'DELETE' });
    expect(res.status).toBe(204);
    await res.arrayBuffer();
    await expectError(await call(client, repo, location), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await patch(location, randomBytes(10), '10-19'), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(
      await call(client, repo, location, { method: 'DELETE' }),
      404,
      'BLOB_UPLOAD_UNKNOWN',
    );
  });
});

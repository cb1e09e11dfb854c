import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadsDir } from '../../src/storage/blobs/paths.js';
import { Pattern, rawRequest } from './support/http.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { errorCode, Session } from './support/session.js';
import { freeBytes, mountTmpfs, type Mounted } from './support/tmpfs.js';

const REPO = 'durable/full';
const MiB = 1024 * 1024;
/** The blob store gets 8 MiB, of which a filler takes all but about 1 MiB. */
const STORE_SIZE = '8m';
const BLOB = 3 * MiB;

const mounted: Mounted = mountTmpfs(STORE_SIZE);
if ('skipped' in mounted) {
  process.stderr.write(`\n!!! disk-full tests SKIPPED: ${mounted.skipped}\n\n`);
}

describe.skipIf('skipped' in mounted)('the blob store runs out of space', () => {
  const store = 'dir' in mounted ? mounted.dir : '';
  const filler = path.join(store, 'filler');
  let server: ServerProcess;
  let session: Session;

  beforeAll(async () => {
    server = await startServerProcess({ env: { PORTCULLIS_BLOBS_PATH: store } });
    session = new Session(server.url, 'admin', server.adminPassword);
    await writeFile(filler, Buffer.alloc(freeBytes(store) - MiB));
  });
  afterAll(async () => {
    await server?.dispose();
    if ('unmount' in mounted) mounted.unmount();
  });

  /** Total bytes held in uploads/ (bytes of sessions in progress). */
  const uploadBytes = async () => {
    const dir = uploadsDir(store);
    let total = 0;
    for (const name of await readdir(dir)) total += (await stat(path.join(dir, name))).size;

    return total;
  };

  it('a chunk that does not fit is a clear 503, the session and server survive', async () => {
    const pattern = new Pattern();
    const location = await session.startUpload(REPO);

    const res = await session.patch(REPO, location, 0, BLOB, pattern.bytes(0, BLOB));
    expect(res.status).toBe(503);
    expect(errorCode(res)).toBe('UNAVAILABLE');
    expect(res.body.toString()).toMatch(/storage is full/);

    expect((await rawRequest(`${server.url}/healthz`)).status).toBe(200);
    expect((await session.headBlob(REPO, pattern.digest(BLOB))).status).toBe(404);
    const status = await session.status(REPO, location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe('0-0');
    // The bytes that did fit are not part of the session; they must not keep the disk full.
    expect(await uploadBytes()).toBe(0);
  });

  it('a monolithic upload that does not fit is a clear 503 and leaves nothing behind', async () => {
    const pattern = new Pattern();
    const digest = pattern.digest(BLOB);
    const sessionsBefore = await readdir(uploadsDir(store));

    const res = await session.pushMonolithic(REPO, pattern.bytes(0, BLOB), digest, BLOB);
    expect(res.status).toBe(503);
    expect(errorCode(res)).toBe('UNAVAILABLE');
    expect((await session.headBlob(REPO, digest)).status).toBe(404);
    // The client never learned this session's id: nothing of it may stay behind.
    expect(await readdir(uploadsDir(store))).toEqual(sessionsBefore);
    expect(await uploadBytes()).toBe(0);
  });

  it('after space is freed, the same session and a fresh upload both complete', async () => {
    const pattern = new Pattern();
    const digest = pattern.digest(BLOB);
    const location = await session.startUpload(REPO);
    expect((await session.patch(REPO, location, 0, BLOB, pattern.bytes(0, BLOB))).status).toBe(503);

    await rm(filler);

    const retry = await session.patch(REPO, location, 0, BLOB, pattern.bytes(0, BLOB));
    expect(retry.status).toBe(202);
    expect((await session.complete(REPO, location, digest)).status).toBe(201);
    expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: BLOB, digest });

    const other = new Pattern();
    const otherDigest = other.digest(BLOB);
    expect(
      (await session.pushMonolithic(REPO, other.bytes(0, BLOB), otherDigest, BLOB)).status,
    ).toBe(201);
    expect(await session.blobDigest(REPO, otherDigest)).toEqual({
      status: 200,
      size: BLOB,
      digest: otherDigest,
    });
  });
});

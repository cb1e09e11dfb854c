import { uploadIdOf } from '../helpers/client.js';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blobPath, uploadPath } from '../../src/storage/blobs/paths.js';
import { Pattern } from './support/http.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { errorCode, Session } from './support/session.js';

const REPO = 'durable/commit';

/**
 * Completing an upload moves its bytes into place (the driver's commit) and then records the
 * link in the metadata store. A crash between the two leaves a session whose bytes are gone.
 * The server is stopped and the move made by hand to reproduce exactly that state.
 */
describe('a crash between committing the bytes and recording the link', () => {
  let server: ServerProcess;
  let session: Session;

  beforeEach(async () => {
    server = await startServerProcess();
    session = new Session(server.url, 'admin', server.adminPassword);
  });
  afterEach(async () => {
    await server.dispose();
  });

  it('the retried PUT gets a clean 404 BLOB_UPLOAD_UNKNOWN, and a fresh upload completes', async () => {
    const pattern = new Pattern();
    const digest = pattern.digest(1000);
    const location = await session.startUpload(REPO);
    expect((await session.patch(REPO, location, 0, 1000, pattern.bytes(0, 1000))).status).toBe(202);
    await server.stop('SIGTERM');
    const target = blobPath(server.blobRoot, digest);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(uploadPath(server.blobRoot, uploadIdOf(location)), target);
    await server.start();

    const retried = await session.complete(REPO, location, digest);
    expect(retried.status).toBe(404);
    expect(errorCode(retried)).toBe('BLOB_UPLOAD_UNKNOWN');
    expect((await session.status(REPO, location)).status).toBe(404);
    expect((await session.headBlob(REPO, digest)).status).toBe(404);

    const fresh = await session.startUpload(REPO);
    expect((await session.patch(REPO, fresh, 0, 1000, pattern.bytes(0, 1000))).status).toBe(202);
    expect((await session.complete(REPO, fresh, digest)).status).toBe(201);
    expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: 1000, digest });
  });
});

import { uploadIdOf } from '../helpers/client.js';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadPath } from '../../src/storage/blobs/paths.js';
import { Pattern } from './support/http.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { errorCode, Session } from './support/session.js';

const REPO = 'durable/abandoned';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('abandoned upload sessions expire (uploads.expireAfter = 1 s)', () => {
  let server: ServerProcess;
  let session: Session;
  const pattern = new Pattern();

  const fileOf = (location: string) => uploadPath(server.blobRoot, uploadIdOf(location));

  /** Starts a session holding 1000 bytes. */
  async function startHolding(): Promise<string> {
    const location = await session.startUpload(REPO);
    expect((await session.patch(REPO, location, 0, 1000, pattern.bytes(0, 1000))).status).toBe(202);

    return location;
  }

  beforeEach(async () => {
    server = await startServerProcess({ env: { PORTCULLIS_UPLOADS_EXPIRE_AFTER: '1' } });
    session = new Session(server.url, 'admin', server.adminPassword);
  });
  afterEach(async () => {
    await server.dispose();
  });

  it('an idle session answers 404 BLOB_UPLOAD_UNKNOWN and its bytes are deleted', async () => {
    const location = await startHolding();
    expect(existsSync(fileOf(location))).toBe(true);
    await sleep(1_500);

    const status = await session.status(REPO, location);
    expect(status.status).toBe(404);
    expect(errorCode(status)).toBe('BLOB_UPLOAD_UNKNOWN');
    const patch = await session.patch(REPO, location, 1000, 10, pattern.bytes(1000, 1010));
    expect(patch.status).toBe(404);
    expect(errorCode(patch)).toBe('BLOB_UPLOAD_UNKNOWN');
    expect((await session.complete(REPO, location, pattern.digest(1000))).status).toBe(404);
    expect(existsSync(fileOf(location))).toBe(false);
  });

  it('the sweep at start removes expired sessions nobody asked about, and stray files', async () => {
    const abandoned = await startHolding();
    // A file no session owns, as a crash between deleting the row and the bytes would leave.
    const stray = uploadPath(server.blobRoot, '00000000-0000-4000-8000-000000000000');
    await writeFile(stray, 'orphan');
    await sleep(1_500);
    expect(existsSync(fileOf(abandoned))).toBe(true);

    await server.stop('SIGTERM');
    await server.start();

    expect(existsSync(fileOf(abandoned))).toBe(false);
    expect(existsSync(stray)).toBe(false);
    expect((await session.status(REPO, abandoned)).status).toBe(404);
  });

  it('a session that keeps receiving chunks does not expire', async () => {
    const location = await session.startUpload(REPO);
    for (let at = 0; at < 5; at++) {
      const res = await session.patch(
        REPO,
        location,
        at * 100,
        100,
        pattern.bytes(at * 100, at * 100 + 100),
      );
      expect(res.status).toBe(202);
      await sleep(500);
    }

    const status = await session.status(REPO, location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe('0-499');
    expect((await session.complete(REPO, location, pattern.digest(500))).status).toBe(201);
  });
});

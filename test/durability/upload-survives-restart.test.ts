import { uploadIdOf } from '../helpers/client.js';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { availableEngines, type Engine } from './support/engines.js';
import { Pattern } from './support/http.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { errorCode, Session } from './support/session.js';

const REPO = 'durable/restart';
const MiB = 1024 * 1024;

const engines = await availableEngines();

describe.each(engines)('an upload session survives a server restart: $name', (engine) => {
  let server: ServerProcess;
  let session: Session;
  let database: Awaited<ReturnType<Engine['database']>>;

  beforeEach(async () => {
    database = await engine.database();
    server = await startServerProcess({ env: database.env });
    session = new Session(server.url, 'admin', server.adminPassword);
  });
  afterEach(async () => {
    await server?.dispose();
    await database?.drop();
  });

  it('keeps the received bytes and rebuilds the running hash from disk', async () => {
    const pattern = new Pattern();
    const total = 3 * MiB + 123;
    const first = MiB;
    const location = await session.startUpload(REPO);
    const id = uploadIdOf(location);

    const patched = await session.patch(REPO, location, 0, first, pattern.bytes(0, first));
    expect(patched.status).toBe(202);
    expect(patched.headers.range).toBe(`0-${first - 1}`);

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await server.start();

    const status = await session.status(REPO, location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe(`0-${first - 1}`);
    expect(status.headers['docker-upload-uuid']).toBe(id);

    const rest = await session.patch(
      REPO,
      location,
      first,
      total - first,
      pattern.bytes(first, total),
    );
    expect(rest.status).toBe(202);
    expect(rest.headers.range).toBe(`0-${total - 1}`);

    const digest = pattern.digest(total);
    const put = await session.complete(REPO, location, digest);
    expect(put.status).toBe(201);
    expect(put.headers['docker-content-digest']).toBe(digest);
    expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: total, digest });
  });

  it('verifies the digest of bytes received before the restart (a wrong digest is refused)', async () => {
    const pattern = new Pattern();
    const location = await session.startUpload(REPO);
    expect((await session.patch(REPO, location, 0, 4096, pattern.bytes(0, 4096))).status).toBe(202);

    await server.stop('SIGTERM');
    await server.start();

    const wrong = await session.complete(REPO, location, pattern.digest(4095));
    expect(wrong.status).toBe(400);
    expect(errorCode(wrong)).toBe('DIGEST_INVALID');
    expect((await session.headBlob(REPO, pattern.digest(4095))).status).toBe(404);
    expect((await session.headBlob(REPO, pattern.digest(4096))).status).toBe(404);
  });

  it('completes with a last chunk in the PUT after two restarts, for sha512 sessions too', async () => {
    const pattern = new Pattern();
    const location = await session.startUpload(REPO, '?digest-algorithm=sha512');
    expect((await session.patch(REPO, location, 0, 1000, pattern.bytes(0, 1000))).status).toBe(202);
    await server.stop('SIGTERM');
    await server.start();
    expect(
      (await session.patch(REPO, location, 1000, 1000, pattern.bytes(1000, 2000))).status,
    ).toBe(202);
    await server.stop('SIGTERM');
    await server.start();

    const digest = `sha512:${createHash('sha512').update(pattern.bytes(0, 2500)).digest('hex')}`;
    const put = await session.complete(REPO, location, digest, pattern.bytes(2000, 2500));
    expect(put.status).toBe(201);
    const head = await session.headBlob(REPO, digest);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('2500');
  });
});

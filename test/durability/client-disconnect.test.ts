import { withDigest } from '../helpers/client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pattern, rawRequest } from './support/http.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { Session } from './support/session.js';

const REPO = 'durable/dropped';
const MiB = 1024 * 1024;

describe('a client that drops the connection mid-upload', () => {
  let server: ServerProcess;
  let session: Session;

  beforeAll(async () => {
    server = await startServerProcess();
    session = new Session(server.url, 'admin', server.adminPassword);
  });
  afterAll(async () => {
    await server.dispose();
  });

  /** Sends `start`…`end` as one chunk and drops the connection after `dropAfter` bytes. */
  async function dropMidPatch(
    pattern: Pattern,
    location: string,
    start: number,
    end: number,
    dropAfter: number,
  ) {
    const abort = new AbortController();
    const body = pattern.stream(start, end, {
      delayMs: 2,
      onProgress: (offset) => {
        if (offset >= start + dropAfter) abort.abort();
      },
    });
    await expect(
      session.patch(REPO, location, start, end - start, body, { signal: abort.signal }),
    ).rejects.toThrow();
  }

  it('leaves the server running, the session usable and no partial blob visible', async () => {
    const pattern = new Pattern();
    const total = 16 * MiB;
    const first = MiB / 2;
    const digest = pattern.digest(total);
    const location = await session.startUpload(REPO);
    expect((await session.patch(REPO, location, 0, first, pattern.bytes(0, first))).status).toBe(
      202,
    );

    await dropMidPatch(pattern, location, first, total, 4 * MiB);

    expect((await rawRequest(`${server.url}/healthz`)).status).toBe(200);
    expect((await session.headBlob(REPO, digest)).status).toBe(404);
    const status = await session.status(REPO, location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe(`0-${first - 1}`);

    const rest = await session.patch(
      REPO,
      location,
      first,
      total - first,
      pattern.stream(first, total),
    );
    expect(rest.status).toBe(202);
    expect((await session.complete(REPO, location, digest)).status).toBe(201);
    expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: total, digest });
  });

  it('a drop during the closing PUT commits nothing; the session can still be closed', async () => {
    const pattern = new Pattern();
    const total = 8 * MiB;
    const digest = pattern.digest(total);
    const location = await session.startUpload(REPO);
    expect((await session.patch(REPO, location, 0, MiB, pattern.bytes(0, MiB))).status).toBe(202);

    const abort = new AbortController();
    const body = pattern.stream(MiB, total, {
      delayMs: 2,
      onProgress: (offset) => {
        if (offset >= 3 * MiB) abort.abort();
      },
    });
    const put = session.request(REPO, withDigest(location, digest), {
      method: 'PUT',
      body,
      signal: abort.signal,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': total - MiB },
    });
    await expect(put).rejects.toThrow();

    expect((await session.headBlob(REPO, digest)).status).toBe(404);
    const status = await session.status(REPO, location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe(`0-${MiB - 1}`);
    const rest = await session.patch(REPO, location, MiB, total - MiB, pattern.stream(MiB, total));
    expect(rest.status).toBe(202);
    expect((await session.complete(REPO, location, digest)).status).toBe(201);
    expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: total, digest });
  });

  it('many dropped uploads in a row do not wedge the server', async () => {
    const pattern = new Pattern();
    for (let i = 0; i < 5; i++) {
      const location = await session.startUpload(REPO);
      await dropMidPatch(pattern, location, 0, 4 * MiB, MiB);
    }

    const small = pattern.bytes(0, 1000);
    const digest = pattern.digest(1000);
    expect((await session.pushMonolithic(REPO, small, digest, 1000)).status).toBe(201);
    expect((await rawRequest(`${server.url}/healthz`)).status).toBe(200);
  });
});

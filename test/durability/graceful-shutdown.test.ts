import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Pattern, rawRequest } from './support/http.js';
import { startServerProcess, type Exit, type ServerProcess } from './support/server-process.js';
import { Session } from './support/session.js';

const REPO = 'durable/shutdown';
const MiB = 1024 * 1024;

describe('graceful shutdown', () => {
  let server: ServerProcess;
  let session: Session;

  beforeEach(async () => {
    server = await startServerProcess();
    session = new Session(server.url, 'admin', server.adminPassword);
  });
  afterEach(async () => {
    await server.dispose();
  });

  it('SIGTERM lets a request in flight finish, refuses new work, then exits 0', async () => {
    const pattern = new Pattern();
    const total = 8 * MiB;
    const location = await session.startUpload(REPO);
    let stopped: Promise<Exit> | undefined;
    let during: Promise<number | string> | undefined;
    const body = pattern.stream(0, total, {
      chunkSize: 256 * 1024,
      delayMs: 20,
      onProgress: (offset) => {
        if (offset < 2 * MiB || stopped) return;
        stopped = server.stop('SIGTERM');
        // A new request while shutting down must not be served (refused or 503).
        during = new Promise((resolve) => setTimeout(resolve, 200)).then(() =>
          rawRequest(`${server.url}/healthz`).then(
            (res) => res.status,
            (err: NodeJS.ErrnoException) => err.code ?? 'error',
          ),
        );
      },
    });

    const res = await session.patch(REPO, location, 0, total, body);
    expect(res.status).toBe(202);
    expect(res.headers.range).toBe(`0-${total - 1}`);
    expect(await during).not.toBe(200);
    expect(await stopped).toEqual({ code: 0, signal: null });

    await server.start();
    const status = await session.status(REPO, location);
    expect(status.headers.range).toBe(`0-${total - 1}`);
    const digest = pattern.digest(total);
    expect((await session.complete(REPO, location, digest)).status).toBe(201);
    expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: total, digest });
  });

  it('SIGTERM exits 0 promptly even with an idle keep-alive connection open', async () => {
    // keepAliveTimeout is 65 s: a shutdown that waited for idle connections would hang.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const res = await fetchWith(agent, `${server.url}/healthz`);
    expect(res).toBe(200);
    const started = Date.now();

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    agent.destroy();
  });
});

/** GET on a given agent, so the connection stays open afterwards; resolves with the status. */
function fetchWith(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

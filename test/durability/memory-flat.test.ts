import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pattern } from './support/http.js';
import { residentBytes, startServerProcess, type ServerProcess } from './support/server-process.js';
import { Session } from './support/session.js';

const REPO = 'durable/large';
const MiB = 1024 * 1024;
const SIZE = 512 * MiB;
/** A generous bound: the point is that memory does not grow with the blob, not a tight budget. */
const RSS_LIMIT = 250 * 1000 * 1000;

describe('memory stays flat while a 512 MiB blob streams through', () => {
  let server: ServerProcess;
  let session: Session;

  beforeAll(async () => {
    server = await startServerProcess({ env: { PORTCULLIS_LOG_LEVEL: 'warn' } });
    session = new Session(server.url, 'admin', server.adminPassword);
  });
  afterAll(async () => {
    await server.dispose();
  });

  /** Runs `work` while sampling the server's resident set every 50 ms; returns the peak. */
  async function peakDuring(work: () => Promise<void>): Promise<number> {
    let peak = residentBytes(server.pid);
    const timer = setInterval(() => {
      peak = Math.max(peak, residentBytes(server.pid));
    }, 50);
    try {
      await work();
    } finally {
      clearInterval(timer);
    }

    return Math.max(peak, residentBytes(server.pid));
  }

  it('on push (one streamed PATCH) and on pull', { timeout: 180_000 }, async () => {
    const pattern = new Pattern();
    const digest = pattern.digest(SIZE);
    const baseline = residentBytes(server.pid);

    const pushPeak = await peakDuring(async () => {
      const location = await session.startUpload(REPO);
      const res = await session.patch(
        REPO,
        location,
        0,
        SIZE,
        pattern.stream(0, SIZE, { chunkSize: MiB }),
      );
      expect(res.status).toBe(202);
      expect((await session.complete(REPO, location, digest)).status).toBe(201);
    });
    const pullPeak = await peakDuring(async () => {
      expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: SIZE, digest });
    });

    const mb = (n: number) => `${Math.round(n / 1e6)} MB`;
    process.stdout.write(
      `server RSS: baseline ${mb(baseline)}, peak on push ${mb(pushPeak)}, peak on pull ${mb(pullPeak)}\n`,
    );
    expect(pushPeak).toBeLessThan(RSS_LIMIT);
    expect(pullPeak).toBeLessThan(RSS_LIMIT);
  });

  it('on a monolithic POST ?digest= upload', { timeout: 180_000 }, async () => {
    const pattern = new Pattern();
    const digest = pattern.digest(SIZE);

    const peak = await peakDuring(async () => {
      const res = await session.pushMonolithic(
        REPO,
        pattern.stream(0, SIZE, { chunkSize: MiB }),
        digest,
        SIZE,
      );
      expect(res.status).toBe(201);
    });

    expect(peak).toBeLessThan(RSS_LIMIT);
  });
});

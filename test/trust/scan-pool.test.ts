import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress as zstdCompress } from 'zstd-napi';
import { FilesystemBlobDriver } from '../../src/storage/blobs/filesystem.js';
import { openScanPool, ScanPool, workerFile, type ScanPoolOptions } from '../../src/trust/scan/pool.js';
import { pemKey, randomText, tarOf, token } from './scan-helpers.js';

describe('ScanPool: secret scans on worker threads', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'portcullis-scan-pool-'));
  const driver = new FilesystemBlobDriver(root);
  const pools: ScanPool[] = [];
  const key = pemKey('RSA ', 21);
  const githubToken = token('gh', 'p_', randomText(36, 22));

  /** Stores `content` as a blob the way an upload does, and returns its digest. */
  const blob = async (content: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const id = randomUUID();
    await driver.append(id, 0, Readable.from([content]));
    await driver.commit(id, digest);

    return digest;
  };
  const pool = (options: Partial<ScanPoolOptions> = {}) => {
    const opened = openScanPool({ root, limits: {}, size: 2, ...options }, (looked) => {
      throw new Error(`no compiled scan worker at ${looked}; run npm run build`);
    })!;
    pools.push(opened);

    return opened;
  };
  const secretLayer = (seed: number) =>
    gzipSync(tarOf([
      { name: 'app/readme.txt', content: randomText(4000, seed) },
      { name: 'home/app/.ssh/id_rsa', content: key.text },
    ]));

  beforeAll(() => driver.init());
  afterAll(async () => {
    for (const p of pools) await p.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('finds a made-up key and token in gzip and zstd layers, as the main-thread scan does', async () => {
    const scans = pool();
    const gz = await scans.scan(await blob(secretLayer(1)));
    expect(gz).toMatchObject({ complete: true, files: 2 });
    expect(gz!.findings).toEqual([expect.objectContaining({ rule: 'private-key', path: 'home/app/.ssh/id_rsa' })]);

    const zst = await scans.scan(await blob(zstdCompress(tarOf([{ name: 'etc/ci.env', content: `TOKEN=${githubToken}\n` }]))));
    expect(zst!.findings.map((f) => [f.path, f.line])).toEqual([['etc/ci.env', 1]]);
  });

  it('queues jobs past its size and completes them all, never running more workers than its size', async () => {
    const dispatched: string[] = [];
    const scans = pool({ size: 2, onDispatch: (_, digest) => dispatched.push(digest) });
    const digests = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((seed) => blob(secretLayer(100 + seed))));
    const results = await Promise.all(digests.map((d) => scans.scan(d)));

    expect(results.map((r) => r?.findings[0]?.rule)).toEqual(digests.map(() => 'private-key'));
    expect([...dispatched].sort()).toEqual([...digests].sort());
    expect(scans.running).toBe(2);
  });

  it('answers undefined for a blob the directory does not hold', async () => {
    const absent = `sha256:${'ab'.repeat(32)}`;
    expect(await pool().scan(absent)).toBeUndefined();
  });

  it('reports a corrupt layer as incomplete, and a digest of the wrong shape as an error', async () => {
    const scans = pool();
    const corrupt = secretLayer(3).subarray(0, 60);
    expect(await scans.scan(await blob(corrupt))).toMatchObject({ complete: false, problem: expect.any(String) });
    await expect(scans.scan('sha256:../../etc/passwd')).rejects.toThrow('digest has an unexpected shape');
  });

  it('fails the job of a worker that dies mid-scan, replaces the worker, and scans on', async () => {
    let kill = true;
    const scans = pool({
      size: 1,
      onDispatch: (worker: Worker) => {
        if (kill) void worker.terminate();
        kill = false;
      },
    });
    const digest = await blob(secretLayer(4));

    await expect(scans.scan(digest)).rejects.toThrow(new RegExp(`^the scan worker stopped \\(exit code \\d+\\) while scanning ${digest}$`));
    const again = await scans.scan(digest);
    expect(again!.findings[0]).toMatchObject({ rule: 'private-key' });
    expect(scans.running).toBe(1);
  });

  it('close() ends its workers, fails the scans still waiting, and refuses new ones', async () => {
    const workers: Worker[] = [];
    const exited: Promise<number>[] = [];
    const scans = pool({
      size: 1,
      onDispatch: (worker: Worker) => {
        workers.push(worker);
        exited.push(new Promise((resolve) => worker.once('exit', resolve)));
      },
    });
    const digest = await blob(secretLayer(5));
    await scans.scan(digest);
    const running = scans.scan(digest);
    const waiting = scans.scan(digest);

    const outcomes = Promise.allSettled([running, waiting]);
    await scans.close();
    expect((await outcomes).map((o) => o.status === 'rejected' && (o.reason as Error).message)).toEqual([
      `the scan pool closed while scanning ${digest}`,
      `the scan pool closed before scanning ${digest}`,
    ]);
    await expect(scans.scan(digest)).rejects.toThrow('the scan pool is closed');
    expect(await Promise.all(exited)).toHaveLength(workers.length);
    expect(scans.running).toBe(0);
  });

  it('finds the compiled worker next to compiled code or under dist/ from a .ts source, and says when there is none', () => {
    const here = pathToFileURL(path.resolve(import.meta.dirname, '../../src/trust/scan/pool.ts'));
    expect(workerFile(here)?.pathname).toMatch(/\/dist\/src\/trust\/scan\/worker\.js$/);

    const nowhere = pathToFileURL(path.join(root, 'pool.ts'));
    expect(workerFile(nowhere)).toBeUndefined();
    const notices: string[] = [];
    expect(openScanPool({ root, limits: {}, size: 1 }, (looked) => notices.push(looked), nowhere)).toBeUndefined();
    expect(notices).toHaveLength(1);
  });
});

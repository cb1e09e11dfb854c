/**
 * One secret-scan worker thread (started by {@link ScanPool} in `pool.ts`). It opens the blobs
 * it is asked about itself, from the blob directory it was given at start, so that neither the
 * blob's bytes nor their decompression and scanning pass through the server's main thread; only
 * the digest goes in and a plain {@link LayerScan} comes back.
 *
 * A worker runs one job at a time: the pool sends the next only after the reply.
 *
 * @module
 */

import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { FilesystemBlobDriver } from '../../storage/blobs/filesystem.js';
import { scanLayer } from './layer.js';
import type { LayerScan, ScanLimits } from './types.js';

/** The nice value of a scan thread: the lowest priority, since pushes and pulls must not wait on scans. */
const SCAN_PRIORITY = 19;

/** What a worker is given when it starts. */
export interface WorkerSetup {
  /** The blob directory (`config.blobs.path`). */
  root: string;
  limits: ScanLimits;
}

/** A job: scan this blob. */
export interface WorkerJob {
  digest: string;
}

/** A job's answer: the scan, "the blob is not held", or why the blob could not be read. */
export type WorkerReply = { scan: LayerScan } | { missing: true } | { error: string; code?: string };

if (!parentPort) throw new Error('worker.ts runs only as a worker thread (see pool.ts)');
const port = parentPort;
// Scans yield the processor to the thread serving requests: on Linux a thread's nice value is
// its own, so this lowers only this worker. Where it cannot be set, scans run at normal priority.
try {
  setPriority(SCAN_PRIORITY);
} catch {
  // not permitted here; nothing else changes
}
const setup = workerData as WorkerSetup;
const driver = new FilesystemBlobDriver(setup.root);

port.on('message', (job: WorkerJob) => {
  void answer(job).then((reply) => port.postMessage(reply));
});

async function answer({ digest }: WorkerJob): Promise<WorkerReply> {
  let stream;
  try {
    stream = await driver.read(digest);
  } catch (err) {
    // As on the main thread: a blob removed since it was named is not a scan failure.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return failure(err);
  }
  try {
    return { scan: await scanLayer(stream, setup.limits) };
  } catch (err) {
    return failure(err);
  }
}

/** Errors cross the thread boundary as their message and code; the pool rebuilds an Error. */
function failure(err: unknown): WorkerReply {
  const code = (err as NodeJS.ErrnoException).code;
  const error = err instanceof Error ? err.message : String(err);

  return typeof code === 'string' ? { error, code } : { error };
}

/**
 * Secret scans on worker threads. Scanning a layer costs several times the CPU of receiving it
 * (decompression, tar walk, rules), and on the server's one JavaScript thread it slowed every
 * upload in flight (bench/RESULTS.md, "Secret scanning's cost on push"). The pool keeps up to
 * `size` workers, each scanning one blob at a time; further jobs wait in order.
 *
 * Limitation: workers read blobs from a local directory, so the pool serves only the
 * filesystem blob driver.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { LayerScan, ScanLimits } from './types.js';
import type { WorkerJob, WorkerReply, WorkerSetup } from './worker.js';

export interface ScanPoolOptions {
  /** The blob directory (`config.blobs.path`); each worker opens blobs there itself. */
  root: string;
  limits: ScanLimits;
  /** Most workers running at once; at least 1. They start on demand. */
  size: number;
  /** Test hook: called right after a job is handed to `worker` (a test may terminate it). */
  onDispatch?: (worker: Worker, digest: string) => void;
}

interface Job {
  digest: string;
  resolve(scan: LayerScan | undefined): void;
  reject(err: Error): void;
}

/**
 * Where the compiled worker is, seen from the module at `from`. In production this code runs
 * from dist/ and worker.js sits next to it. Under vitest it runs from its .ts source, where no
 * worker.js exists and a worker thread could not load TypeScript, so a .ts module takes the
 * compiled copy under dist/ at the repository root, which `npm test` builds before the tests
 * (run vitest alone and that copy may be stale or missing). Undefined when neither exists.
 */
export function workerFile(from: string | URL): URL | undefined {
  const candidates = [new URL('./worker.js', from)];
  if (String(from).endsWith('.ts')) candidates.push(new URL('../../../dist/src/trust/scan/worker.js', from));

  return candidates.find((url) => existsSync(url));
}

/**
 * A pool over the compiled worker, or undefined when there is none: the caller then scans on
 * the main thread, and `onMissing` (called once, here) lets it say so in its log. `from` is
 * where the worker is looked for (see {@link workerFile}); only tests change it.
 */
export function openScanPool(
  options: ScanPoolOptions,
  onMissing: (looked: string) => void,
  from: string | URL = import.meta.url,
): ScanPool | undefined {
  const file = workerFile(from);
  if (file) return new ScanPool(file, options);
  onMissing(new URL('./worker.js', from).pathname);

  return undefined;
}

/** Worker threads that scan layer blobs by digest; see the module comment. */
export class ScanPool {
  private readonly workers = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(
    private readonly file: URL,
    private readonly options: ScanPoolOptions,
  ) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new TypeError('a scan pool needs at least one worker');
    }
  }

  /** Workers alive now (busy or idle). */
  get running(): number {
    return this.workers.size;
  }

  /**
   * Scans the blob on a worker. Undefined when the blob is not held; rejects when it cannot be
   * read, when its worker stops mid-scan (the worker is replaced), or once the pool is closed.
   */
  scan(digest: string): Promise<LayerScan | undefined> {
    if (this.closed) return Promise.reject(new Error('the scan pool is closed'));

    return new Promise((resolve, reject) => {
      this.queue.push({ digest, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends every worker; scans waiting or running fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      job.reject(new Error(`the scan pool closed before scanning ${job.digest}`));
    }
    await Promise.all([...this.workers].map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const worker = this.idle.pop() ?? (this.workers.size < this.options.size ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.busy.set(worker, job);
      // An idle worker must not keep the process alive; a busy one must, or a scan could be cut off.
      worker.ref();
      worker.postMessage({ digest: job.digest } satisfies WorkerJob);
      this.options.onDispatch?.(worker, job.digest);
    }
  }

  private spawn(): Worker {
    const setup: WorkerSetup = { root: this.options.root, limits: this.options.limits };
    const worker = new Worker(this.file, { workerData: setup });
    let crash: Error | undefined;
    worker.on('message', (reply: WorkerReply) => this.settle(worker, reply));
    worker.on('error', (err) => (crash = err));
    worker.on('exit', (code) => this.lost(worker, code, crash));
    this.workers.add(worker);

    return worker;
  }

  private settle(worker: Worker, reply: WorkerReply): void {
    const job = this.busy.get(worker);
    if (!job) return;
    this.busy.delete(worker);
    worker.unref();
    this.idle.push(worker);
    if ('scan' in reply) job.resolve(reply.scan);
    else if ('missing' in reply) job.resolve(undefined);
    else job.reject(Object.assign(new Error(reply.error), reply.code ? { code: reply.code } : {}));
    this.dispatch();
  }

  /** A worker ended: its job fails, and the next job waiting starts a replacement. */
  private lost(worker: Worker, code: number, crash: Error | undefined): void {
    this.workers.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    const job = this.busy.get(worker);
    this.busy.delete(worker);
    if (job) {
      const why = this.closed ? 'the scan pool closed' : `the scan worker stopped (exit code ${code})`;
      job.reject(new Error(`${why} while scanning ${job.digest}`, crash ? { cause: crash } : undefined));
    }
    this.dispatch();
  }
}

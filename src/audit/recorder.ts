import type { Logger } from 'pino';
import type { MetadataStore, NewAuditRow } from '../storage/metadata/index.js';
import { linkHash } from './chain.js';
import { makeCheckpoint, type CheckpointSigner } from './checkpoints.js';

/** An event as the server reports it; the recorder adds the node, the sequence and the hashes. */
export type AuditEvent = Omit<NewAuditRow, 'node'>;

const FLUSH_MS = 250;
const CHECKPOINT_EVENTS = 1000;
const CHECKPOINT_MS = 60_000;
/** Said of a change whose record could not be written before the answer (which was then 503). */
const LATE = 'written late: the first write failed and the client was answered 503';
const BATCH = 1000;
/** Beyond this many unwritten reads, the oldest go, loudly: the process must not run out of memory. */
const MAX_PENDING = 200_000;

/**
 * Writes audit events into the store's chain. Changes are written before the caller answers
 * (`record`); reads are queued and written in batches within a second (`enqueue`). A failed
 * batch stays queued and is tried again; `healthy()` turns false until a write succeeds again,
 * which `/readyz` and the metrics report.
 */
export class AuditRecorder {
  private queue: NewAuditRow[] = [];
  private flushing: Promise<void> | undefined;
  private failing = false;
  private readonly timer: NodeJS.Timeout;
  /** Counters for the metrics endpoint. */
  readonly counts = { written: 0, dropped: 0, failures: 0 };

  private lastCheckpoint: { seq: number; at: number } | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly node: string,
    private readonly logger: Logger,
    private readonly sign?: CheckpointSigner,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /**
   * Writes the events now; throws when they cannot be written. The change they describe may
   * have happened all the same, so they are queued to be written as soon as the store works.
   */
  async record(events: AuditEvent[]): Promise<void> {
    const rows = events.map((e) => ({ ...e, node: this.node }));
    try {
      const written = await this.store.audit.append(rows, linkHash);
      this.counts.written += rows.length;
      this.failing = false;
      await this.checkpoint(written.at(-1));
    } catch (err) {
      this.counts.failures += 1;
      this.failing = true;
      this.queue.push(...rows.map((r) => ({ ...r, reason: r.reason ? `${r.reason}; ${LATE}` : LATE })));
      throw err;
    }
  }

  /** Queues a read event; it is written within about a second. */
  enqueue(event: AuditEvent): void {
    this.queue.push({ ...event, node: this.node });
    if (this.queue.length > MAX_PENDING) {
      const dropped = this.queue.splice(0, this.queue.length - MAX_PENDING);
      this.counts.dropped += dropped.length;
      this.logger.error({ dropped: dropped.length }, 'audit events dropped: the audit store has been failing for too long');
    }
    if (this.queue.length >= BATCH) void this.flush();
  }

  /** False while the last write failed. */
  healthy(): boolean {
    return !this.failing;
  }

  pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued (in batches); resolves when done or when a write failed. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });

    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, BATCH);
      let written;
      try {
        written = await this.store.audit.append(batch, linkHash);
      } catch (err) {
        this.counts.failures += 1;
        if (!this.failing) this.logger.error({ err, pending: this.queue.length }, 'failed to write audit events; they stay queued');
        this.failing = true;
        return;
      }
      this.queue.splice(0, batch.length);
      this.counts.written += batch.length;
      this.failing = false;
      await this.checkpoint(written.at(-1));
    }
  }

  /**
   * Signs a checkpoint every CHECKPOINT_EVENTS events or CHECKPOINT_MS, whichever comes first
   * (and at close), and logs it, so a copy of the chain's state lives outside the store too.
   */
  private async checkpoint(last: { seq: number; hash: string } | undefined, force = false): Promise<void> {
    if (!this.sign || !last) return;
    try {
      if (!this.lastCheckpoint) {
        const stored = await this.store.audit.lastCheckpoint();
        this.lastCheckpoint = { seq: stored?.seq ?? 0, at: stored?.at ?? Date.now() };
      }
      const previous = this.lastCheckpoint;
      const due = last.seq - previous.seq >= CHECKPOINT_EVENTS || Date.now() - previous.at >= CHECKPOINT_MS;
      if (last.seq <= previous.seq || (!due && !force)) return;
      const checkpoint = await makeCheckpoint(last.seq, last.hash, this.sign);
      await this.store.audit.addCheckpoint(checkpoint);
      this.lastCheckpoint = { seq: checkpoint.seq, at: checkpoint.at };
      this.logger.info({ auditCheckpoint: { seq: checkpoint.seq, hash: checkpoint.hash, kid: checkpoint.kid, signature: checkpoint.signature } }, 'audit checkpoint');
    } catch (err) {
      this.logger.warn({ err }, 'failed to write an audit checkpoint; the next write tries again');
    }
  }

  /** Stops the timer, writes what is queued, and signs a checkpoint at the end of the chain. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.sign) await this.checkpoint(await this.store.audit.head().catch(() => undefined), true);
  }
}

import type { Logger } from 'pino';
import type { AuditExportConfig } from '../../config/schema.js';
import type { MetadataStore } from '../../storage/metadata/index.js';
import { sinkFor, type Sink } from './sinks.js';

const TICK_MS = 1000;
const BATCH = 500;
const LEASE_MS = 30_000;
const MAX_BACKOFF_MS = 60_000;

interface Export {
  name: string;
  sink: Sink;
  retryAt: number;
  backoffMs: number;
}

/**
 * Sends the audit log to its export sinks. Each sink reads the log from where it stopped (kept
 * in the store), so nothing is lost across restarts: delivery is at least once, and a receiver
 * drops repeats by the event's `id` (its sequence number). One node at a time exports a sink,
 * under a lease; a failing sink is retried with backoff up to a minute.
 */
export class AuditExporter {
  private readonly exports: Export[];
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly node: string,
    private readonly logger: Logger,
    configs: AuditExportConfig[],
  ) {
    this.exports = configs.map((c) => ({ name: c.name, sink: sinkFor(c), retryAt: 0, backoffMs: 1000 }));
  }

  start(): void {
    if (this.exports.length === 0) return;
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** One round over every sink; rounds never overlap. */
  tick(): Promise<void> {
    this.running ??= (async () => {
      for (const e of this.exports) if (Date.now() >= e.retryAt) await this.deliver(e);
    })().finally(() => {
      this.running = undefined;
    });

    return this.running;
  }

  private async deliver(e: Export): Promise<void> {
    try {
      for (;;) {
        const cursor = await this.store.audit.claimExport(e.name, this.node, Date.now(), LEASE_MS);
        if (cursor === undefined) return;
        const rows = await this.store.audit.page(cursor, BATCH);
        if (rows.length === 0) return;
        await e.sink(rows);
        await this.store.audit.advanceExport(e.name, this.node, rows.at(-1)!.seq);
        e.backoffMs = 1000;
        if (rows.length < BATCH) return;
      }
    } catch (err) {
      if (e.backoffMs === 1000) this.logger.warn({ err, export: e.name }, 'audit export failed; retrying with backoff');
      e.retryAt = Date.now() + e.backoffMs;
      e.backoffMs = Math.min(e.backoffMs * 2, MAX_BACKOFF_MS);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

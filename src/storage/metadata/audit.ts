import type { Connection } from './connect.js';
import { AUDIT_GENESIS } from './migrations.js';
import type { Database } from './tables.js';

/** One stored audit event. Times are milliseconds since the epoch. */
export interface AuditRow {
  seq: number;
  at: number;
  node: string;
  requestId: string | null;
  action: string;
  outcome: string;
  reason: string | null;
  principal: string | null;
  credential: string | null;
  tokenId: string | null;
  /** JSON of `{issuer, subject, rule}` for a federated workload. */
  federated: string | null;
  address: string | null;
  userAgent: string | null;
  repository: string | null;
  reference: string | null;
  digest: string | null;
  bytes: number | null;
  prevHash: string;
  hash: string;
}

export type NewAuditRow = Omit<AuditRow, 'seq' | 'prevHash' | 'hash'>;

/** A signed statement that events `firstSeq`..`lastSeq` were pruned and the chain went on from `lastHash`. */
export interface AuditSummary {
  firstSeq: number;
  lastSeq: number;
  events: number;
  lastHash: string;
  at: number;
  kid: string;
  publicJwk: string;
  signature: string;
}

/** A signed statement that the chain's event `seq` had `hash`. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: number;
  kid: string;
  /** The public key that verifies `signature` (its RFC 7638 thumbprint is `kid`). */
  publicJwk: string;
  /** JWS compact serialization over `{"seq","hash","at"}`. */
  signature: string;
}

export interface AuditFilter {
  digest?: string;
  credential?: string;
  principal?: string;
  repository?: string;
  address?: string;
  /** Actions to include, e.g. `['blob.get', 'manifest.get']`. */
  actions?: string[];
  outcome?: string;
  since?: number;
  until?: number;
}

/**
 * The append-only audit log and the head of its hash chain. Appends lock the head (a row lock
 * on PostgreSQL; SQLite writes one at a time anyway), so events from every node form one chain.
 */
export class AuditStore {
  constructor(private readonly conn: Connection) {}

  /**
   * Appends `events` in one transaction, in order: each gets the next sequence number, the
   * previous event's hash, and its own hash from `link`.
   */
  async append(events: NewAuditRow[], link: (row: Omit<AuditRow, 'hash'>) => string): Promise<AuditRow[]> {
    if (events.length === 0) return [];

    return this.conn.db.transaction().execute(async (tx) => {
      // The migration creates the head; should it be gone, the chain starts again from genesis.
      await tx.insertInto('audit_head').values({ id: 1, seq: 0, hash: AUDIT_GENESIS }).onConflict((oc) => oc.column('id').doNothing()).execute();
      let query = tx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
      if (this.conn.engine === 'postgres') query = query.forUpdate();
      const head = await query.executeTakeFirstOrThrow();
      let seq = Number(head.seq);
      let prev = head.hash;
      const rows: AuditRow[] = [];
      for (const event of events) {
        seq += 1;
        const unlinked = { ...event, seq, prevHash: prev };
        const row = { ...unlinked, hash: link(unlinked) };
        rows.push(row);
        prev = row.hash;
      }
      for (let i = 0; i < rows.length; i += 200) await tx.insertInto('audit_events').values(rows.slice(i, i + 200).map(toColumns)).execute();
      await tx.updateTable('audit_head').set({ seq, hash: prev }).where('id', '=', 1).execute();

      return rows;
    });
  }

  /** Events after `afterSeq` in sequence order, at most `limit`: for walking the chain. */
  async page(afterSeq: number, limit: number): Promise<AuditRow[]> {
    const rows = await this.conn.db.selectFrom('audit_events').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();

    return rows.map(fromColumns);
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const head = await this.conn.db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();

    return head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: AUDIT_GENESIS };
  }

  /** Stores a checkpoint; a second one for the same event (from another node) is ignored. */
  async addCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    await this.conn.db
      .insertInto('audit_checkpoints')
      .values({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at, kid: checkpoint.kid, public_jwk: checkpoint.publicJwk, signature: checkpoint.signature })
      .onConflict((oc) => oc.column('seq').doNothing())
      .execute();
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    const rows = await this.conn.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();

    return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, at: Number(r.at), kid: r.kid, publicJwk: r.public_jwk, signature: r.signature }));
  }

  async lastCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const row = await this.conn.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();

    return row && { seq: Number(row.seq), hash: row.hash, at: Number(row.at), kid: row.kid, publicJwk: row.public_jwk, signature: row.signature };
  }

  /**
   * Takes (or renews) the lease on an export sink for `holder` and returns the last event it
   * delivered; undefined while another node holds an unexpired lease. The audit table itself
   * is the outbox: nothing is lost across restarts, because delivery resumes from there.
   */
  async claimExport(name: string, holder: string, now: number, leaseMs: number): Promise<number | undefined> {
    return this.conn.db.transaction().execute(async (tx) => {
      await tx.insertInto('audit_exports').values({ name, seq: 0, holder: null, lease_until: 0 }).onConflict((oc) => oc.column('name').doNothing()).execute();
      const claimed = await tx
        .updateTable('audit_exports')
        .set({ holder, lease_until: now + leaseMs })
        .where('name', '=', name)
        .where((eb) => eb.or([eb('lease_until', '<', now), eb('holder', '=', holder)]))
        .returning('seq')
        .executeTakeFirst();

      return claimed === undefined ? undefined : Number(claimed.seq);
    });
  }

  /** Records that the sink delivered everything up to `seq`, if `holder` still holds it. */
  async advanceExport(name: string, holder: string, seq: number): Promise<void> {
    await this.conn.db.updateTable('audit_exports').set({ seq }).where('name', '=', name).where('holder', '=', holder).execute();
  }

  /**
   * Deletes the events recorded before `before` (and their checkpoints) in one transaction,
   * leaving the summary `summarize` signs for them; undefined when nothing is that old.
   */
  async prune(before: number, summarize: (range: Omit<AuditSummary, 'at' | 'kid' | 'publicJwk' | 'signature'>) => Promise<AuditSummary>): Promise<AuditSummary | undefined> {
    const db = this.conn.db;
    const last = await db.selectFrom('audit_events').select(['seq', 'hash']).where('at', '<', before).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    if (!last) return undefined;
    const first = await db.selectFrom('audit_events').select('seq').orderBy('seq').limit(1).executeTakeFirstOrThrow();
    const lastSeq = Number(last.seq);
    const firstSeq = Number(first.seq);
    // Signed before the transaction: signing reads the keys, which must not wait on it.
    const summary = await summarize({ firstSeq, lastSeq, events: lastSeq - firstSeq + 1, lastHash: last.hash });

    return db.transaction().execute(async (tx) => {
      await tx.deleteFrom('audit_events').where('seq', '<=', lastSeq).execute();
      await tx.deleteFrom('audit_checkpoints').where('seq', '<=', lastSeq).execute();
      await tx
        .insertInto('audit_summaries')
        .values({
          last_seq: summary.lastSeq,
          first_seq: summary.firstSeq,
          events: summary.events,
          last_hash: summary.lastHash,
          at: summary.at,
          kid: summary.kid,
          public_jwk: summary.publicJwk,
          signature: summary.signature,
        })
        .execute();

      return summary;
    });
  }

  async summaries(): Promise<AuditSummary[]> {
    const rows = await this.conn.db.selectFrom('audit_summaries').selectAll().orderBy('last_seq').execute();

    return rows.map((r) => ({
      firstSeq: Number(r.first_seq),
      lastSeq: Number(r.last_seq),
      events: Number(r.events),
      lastHash: r.last_hash,
      at: Number(r.at),
      kid: r.kid,
      publicJwk: r.public_jwk,
      signature: r.signature,
    }));
  }

  /** The most recent event matching the filter. */
  async latest(filter: AuditFilter): Promise<AuditRow | undefined> {
    let query = this.conn.db.selectFrom('audit_events').selectAll();
    if (filter.credential !== undefined) query = query.where('credential', '=', filter.credential);
    if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
    if (filter.actions?.length) query = query.where('action', 'in', filter.actions);
    const row = await query.orderBy('seq', 'desc').limit(1).executeTakeFirst();

    return row && fromColumns(row);
  }

  /** Events matching every given filter, oldest first, after the `afterSeq` cursor. */
  async query(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditRow[]> {
    let query = this.conn.db.selectFrom('audit_events').selectAll().where('seq', '>', afterSeq);
    for (const key of ['digest', 'credential', 'principal', 'repository', 'address', 'outcome'] as const) {
      const value = filter[key];
      if (value !== undefined) query = query.where(key, '=', value);
    }
    if (filter.actions?.length) query = query.where('action', 'in', filter.actions);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('at', '<', filter.until);

    return (await query.orderBy('seq').limit(limit).execute()).map(fromColumns);
  }
}

function toColumns(row: AuditRow): Database['audit_events'] {
  return {
    seq: row.seq,
    at: row.at,
    node: row.node,
    request_id: row.requestId,
    action: row.action,
    outcome: row.outcome,
    reason: row.reason,
    principal: row.principal,
    credential: row.credential,
    token_id: row.tokenId,
    federated: row.federated,
    address: row.address,
    user_agent: row.userAgent,
    repository: row.repository,
    reference: row.reference,
    digest: row.digest,
    bytes: row.bytes,
    prev_hash: row.prevHash,
    hash: row.hash,
  };
}

function fromColumns(row: Database['audit_events']): AuditRow {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    node: row.node,
    requestId: row.request_id,
    action: row.action,
    outcome: row.outcome,
    reason: row.reason,
    principal: row.principal,
    credential: row.credential,
    tokenId: row.token_id,
    federated: row.federated,
    address: row.address,
    userAgent: row.user_agent,
    repository: row.repository,
    reference: row.reference,
    digest: row.digest,
    bytes: row.bytes === null ? null : Number(row.bytes),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

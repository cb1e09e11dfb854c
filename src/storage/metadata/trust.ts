import type { Connection } from './connect.js';
import type { Database } from './tables.js';

export interface PolicyRecord {
  namespace: string;
  /** The resolved policy document as JSON (keys, certificates and trusted roots inline). */
  document: string;
  version: number;
  source: 'config' | 'api';
  updatedBy: string;
  updatedAt: number;
}

export type QuarantineKind = 'admin' | 'scanner' | 'staged';

export interface QuarantineRecord {
  digest: string;
  kind: QuarantineKind;
  /** For a staged digest: the namespace whose checks release it. */
  namespace?: string | null;
  reason: string;
  actor: string;
  at: number;
}

export interface StoredFinding {
  rule: string;
  description: string;
  path: string;
  line?: number;
  fingerprint: string;
}

export interface ScanRecord {
  digest: string;
  complete: boolean;
  problem: string | null;
  findings: StoredFinding[];
  whiteouts: string[];
  bytes: number;
  at: number;
}

export interface TagMove {
  repository: string;
  tag: string;
  digest: string | null;
  previous: string | null;
  actor: string;
  at: number;
  note: string | null;
}

/**
 * Trust policies, quarantined digests, secret-scan results and tag history. Policy and
 * quarantine changes notify every node, which reloads them before its next pull.
 */
export class TrustStore {
  constructor(private readonly conn: Connection) {}

  async policies(): Promise<PolicyRecord[]> {
    const rows = await this.conn.db.selectFrom('trust_policies').selectAll().orderBy('namespace').execute();

    return rows.map(toPolicy);
  }

  /** Stores the namespace's policy with the next version. */
  async setPolicy(namespace: string, document: string, source: PolicyRecord['source'], actor: string): Promise<PolicyRecord> {
    return this.changing(async (db) => {
      const current = await db.selectFrom('trust_policies').select('version').where('namespace', '=', namespace).executeTakeFirst();
      const row: Database['trust_policies'] = {
        namespace,
        document,
        version: Number(current?.version ?? 0) + 1,
        source,
        updated_by: actor,
        updated_at: Date.now(),
      };
      await db
        .insertInto('trust_policies')
        .values(row)
        .onConflict((oc) => oc.column('namespace').doUpdateSet({ document, version: row.version, source, updated_by: actor, updated_at: row.updated_at }))
        .execute();

      return toPolicy(row);
    });
  }

  async removePolicy(namespace: string): Promise<boolean> {
    return this.changing(async (db) => {
      const result = await db.deleteFrom('trust_policies').where('namespace', '=', namespace).executeTakeFirst();

      return result.numDeletedRows > 0n;
    });
  }

  async quarantined(): Promise<QuarantineRecord[]> {
    const rows = await this.conn.db.selectFrom('quarantine').selectAll().orderBy('at').execute();

    return rows.map(toQuarantine);
  }

  /** Quarantines a digest; false when it already was (the first reason stays). */
  async quarantine(entry: Omit<QuarantineRecord, 'at'>): Promise<boolean> {
    return this.changing(async (db) => {
      const result = await db
        .insertInto('quarantine')
        .values({ ...entry, namespace: entry.namespace ?? null, at: Date.now() })
        .onConflict((oc) => oc.column('digest').doNothing())
        .executeTakeFirst();

      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    });
  }

  /** Releases a digest; returns what was released, or undefined when it was not quarantined. */
  async release(digest: string): Promise<QuarantineRecord | undefined> {
    return this.changing(async (db) => {
      const row = await db.selectFrom('quarantine').selectAll().where('digest', '=', digest).executeTakeFirst();
      if (!row) return undefined;
      await db.deleteFrom('quarantine').where('digest', '=', digest).execute();

      return toQuarantine(row);
    });
  }

  async scan(digest: string): Promise<ScanRecord | undefined> {
    const row = await this.conn.db.selectFrom('scan_results').selectAll().where('digest', '=', digest).executeTakeFirst();

    return row && toScan(row);
  }

  async saveScan(scan: ScanRecord): Promise<void> {
    const row: Database['scan_results'] = {
      digest: scan.digest,
      complete: scan.complete ? 1 : 0,
      problem: scan.problem,
      findings: JSON.stringify(scan.findings),
      whiteouts: JSON.stringify(scan.whiteouts),
      bytes: scan.bytes,
      at: scan.at,
    };
    await this.conn.db
      .insertInto('scan_results')
      .values(row)
      .onConflict((oc) => oc.column('digest').doUpdateSet({ ...row }))
      .execute();
  }

  /** Scans that found something or could not finish, newest first. */
  async scansWithFindings(limit: number): Promise<ScanRecord[]> {
    const rows = await this.conn.db
      .selectFrom('scan_results')
      .selectAll()
      .where((eb) => eb.or([eb('findings', '!=', '[]'), eb('complete', '=', 0)]))
      .orderBy('at', 'desc')
      .limit(limit)
      .execute();

    return rows.map(toScan);
  }

  /** Every move of a tag (or of every tag in the repository), oldest first. */
  async tagHistory(repository: string, tag?: string): Promise<TagMove[]> {
    let query = this.conn.db.selectFrom('tag_history').selectAll().where('repository', '=', repository);
    if (tag !== undefined) query = query.where('tag', '=', tag);
    const rows = await query.orderBy('at').orderBy('id').execute();

    return rows.map((r) => ({
      repository: r.repository,
      tag: r.tag,
      digest: r.digest,
      previous: r.previous,
      actor: r.actor,
      at: Number(r.at),
      note: r.note ?? null,
    }));
  }

  /** Whether `digest` was ever the target of the tag. */
  async taggedBefore(repository: string, tag: string, digest: string): Promise<boolean> {
    const row = await this.conn.db
      .selectFrom('tag_history')
      .select('id')
      .where('repository', '=', repository)
      .where('tag', '=', tag)
      .where('digest', '=', digest)
      .limit(1)
      .executeTakeFirst();

    return row !== undefined;
  }

  private async changing<T>(work: (db: Connection['db']) => Promise<T>): Promise<T> {
    return this.conn.db.transaction().execute(async (tx) => {
      const result = await work(tx);
      await this.conn.notify(tx);

      return result;
    });
  }
}

function toPolicy(row: Database['trust_policies']): PolicyRecord {
  return {
    namespace: row.namespace,
    document: row.document,
    version: Number(row.version),
    source: row.source === 'config' ? 'config' : 'api',
    updatedBy: row.updated_by,
    updatedAt: Number(row.updated_at),
  };
}

function toQuarantine(row: Database['quarantine']): QuarantineRecord {
  return { digest: row.digest, kind: row.kind as QuarantineKind, namespace: row.namespace, reason: row.reason, actor: row.actor, at: Number(row.at) };
}

function toScan(row: Database['scan_results']): ScanRecord {
  return {
    digest: row.digest,
    complete: row.complete !== 0,
    problem: row.problem,
    findings: JSON.parse(row.findings) as StoredFinding[],
    whiteouts: JSON.parse(row.whiteouts) as string[],
    bytes: Number(row.bytes),
    at: Number(row.at),
  };
}

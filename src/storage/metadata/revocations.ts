import { randomUUID } from 'node:crypto';
import type { Connection } from './connect.js';

/**
 * A revoked token, a subject whose tokens issued before a time are void, or (with neither)
 * every token issued before a time: the emergency switch.
 */
export type RevocationKind = 'token' | 'subject' | 'all';

export interface RevocationRecord {
  id: string;
  kind: RevocationKind;
  principal: string | null;
  jti: string | null;
  /** Tokens issued before this time (ms) are void; for `subject` and `all`. */
  before: number | null;
  reason: string | null;
  actor: string;
  createdAt: number;
  /** When no token the revocation covers can still be valid; it is pruned after that. */
  expiresAt: number;
}

export type NewRevocation = Omit<RevocationRecord, 'id' | 'createdAt'>;

/** Token revocations, shared by every node through the store and its change feed. */
export class RevocationStore {
  constructor(private readonly conn: Connection) {}

  async add(revocation: NewRevocation): Promise<RevocationRecord> {
    const record: RevocationRecord = { ...revocation, id: randomUUID(), createdAt: Date.now() };
    await this.conn.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('revocations')
        .values({
          id: record.id,
          kind: record.kind,
          principal: record.principal,
          jti: record.jti,
          before: record.before,
          reason: record.reason,
          actor: record.actor,
          created_at: record.createdAt,
          expires_at: record.expiresAt,
        })
        .execute();
      if (record.kind === 'subject' && record.principal?.startsWith('user:')) {
        // Everything of a subject includes the refresh tokens it could mint new tokens with.
        await tx.deleteFrom('refresh_tokens').where('user_id', '=', record.principal.slice(5)).execute();
        // And the one-time sign-in codes it has not redeemed yet, which would mint a refresh token.
        await tx.deleteFrom('login_codes').where('user_id', '=', record.principal.slice(5)).execute();
      }
      if (record.kind === 'all') {
        await tx.deleteFrom('refresh_tokens').execute();
        await tx.deleteFrom('login_codes').execute();
      }
      await this.conn.notify(tx);
    });

    return record;
  }

  /** Revocations that can still matter at `now`. */
  async active(now: number): Promise<RevocationRecord[]> {
    const rows = await this.conn.db
      .selectFrom('revocations')
      .selectAll()
      .where('expires_at', '>', now)
      .orderBy('created_at')
      .execute();

    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as RevocationKind,
      principal: r.principal,
      jti: r.jti,
      before: r.before,
      reason: r.reason,
      actor: r.actor,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    }));
  }

  /** Removes revocations that no longer cover any valid token. */
  async prune(now: number): Promise<number> {
    const result = await this.conn.db.deleteFrom('revocations').where('expires_at', '<=', now).executeTakeFirst();

    return Number(result.numDeletedRows);
  }
}

import { randomUUID } from 'node:crypto';
import type { Connection } from './connect.js';

/** A person who signs in through the OpenID provider, as stored. */
export interface PersonRecord {
  id: string;
  name: string;
  disabled: boolean;
  externalSubject: string | null;
  groups: string[];
}

/** What a redeemed one-time login code stood for. */
export interface LoginCodeRecord {
  userId: string;
  challenge: string;
}

/** People from the OpenID provider (users with an external subject) and one-time login codes. */
export class PeopleStore {
  constructor(private readonly conn: Connection) {}

  async byExternalSubject(subject: string): Promise<PersonRecord | undefined> {
    const row = await this.conn.db.selectFrom('users').selectAll().where('external_subject', '=', subject).executeTakeFirst();

    return row && toPerson(row);
  }

  async byName(name: string): Promise<PersonRecord | undefined> {
    const row = await this.conn.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();

    return row && toPerson(row);
  }

  /** Creates the person; throws when the name or the subject is taken (unique constraints). */
  async create(name: string, passwordHash: string, subject: string, groups: string[]): Promise<PersonRecord> {
    const row = {
      id: randomUUID(),
      name,
      password_hash: passwordHash,
      disabled: 0,
      created_at: Date.now(),
      allowed_cidrs: null,
      mixed_environments: 0,
      external_subject: subject,
      groups: JSON.stringify(groups),
    };
    await this.changing(async (db) => {
      await db.insertInto('users').values(row).execute();
    });

    return toPerson(row);
  }

  /** Records the groups the provider named at the latest sign-in; a change reloads every node's directory. */
  async setGroups(userId: string, groups: string[]): Promise<void> {
    await this.changing(async (db) => {
      await db.updateTable('users').set({ groups: JSON.stringify(groups) }).where('id', '=', userId).execute();
    });
  }

  /** Stores a one-time code (by hash) and drops codes that expired. */
  async saveLoginCode(codeHash: string, userId: string, challenge: string, expiresAt: number): Promise<void> {
    const now = Date.now();
    await this.conn.db.deleteFrom('login_codes').where('expires_at', '<', now).execute();
    await this.conn.db
      .insertInto('login_codes')
      .values({ code_hash: codeHash, user_id: userId, challenge, expires_at: expiresAt, used_at: null })
      .execute();
  }

  /**
   * Marks the code used and returns what it stood for, when it exists, has not expired and was
   * not used before. The conditional update is atomic, so of two nodes redeeming it one wins.
   */
  async redeemLoginCode(codeHash: string, now: number): Promise<LoginCodeRecord | undefined> {
    return this.conn.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('login_codes')
        .set({ used_at: now })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (result.numUpdatedRows !== 1n) return undefined;
      const row = await tx.selectFrom('login_codes').select(['user_id', 'challenge']).where('code_hash', '=', codeHash).executeTakeFirstOrThrow();

      return { userId: row.user_id, challenge: row.challenge };
    });
  }

  private async changing<T>(work: (db: Connection['db']) => Promise<T>): Promise<T> {
    return this.conn.db.transaction().execute(async (tx) => {
      const result = await work(tx);
      await this.conn.notify(tx);

      return result;
    });
  }
}

/** The stored groups; anything but a JSON array of strings counts as none. */
export function parseGroups(value: string | null | undefined): string[] {
  if (!value) return [];
  try {
    const parsed = JSON.parse(value) as unknown;
    return Array.isArray(parsed) ? parsed.filter((g): g is string => typeof g === 'string') : [];
  } catch {
    return [];
  }
}

function toPerson(row: { id: string; name: string; disabled: number; external_subject?: string | null; groups?: string | null }): PersonRecord {
  return { id: row.id, name: row.name, disabled: row.disabled !== 0, externalSubject: row.external_subject ?? null, groups: parseGroups(row.groups) };
}

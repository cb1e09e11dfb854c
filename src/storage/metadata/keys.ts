import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Connection } from './connect.js';
import type { SigningKeyRecord } from './principals.js';
import { insertSigningKey } from './writes.js';

/** Token-signing key rotation and the registry's own secrets, shared by every node. */
export class KeyStore {
  constructor(private readonly conn: Connection) {}

  /** Retires every active key as of `now` and makes `key` the one that signs. */
  async rotate(key: Omit<SigningKeyRecord, 'retiredAt'>, now: number): Promise<void> {
    await this.conn.db.transaction().execute(async (tx) => {
      await tx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
      await insertSigningKey(tx, key);
      await this.conn.notify(tx);
    });
  }

  /** Deletes keys retired before `before` (no token they signed can still be valid). */
  async prune(before: number): Promise<string[]> {
    return this.conn.db.transaction().execute(async (tx) => {
      const gone = await tx.selectFrom('signing_keys').select('kid').where('retired_at', '<', before).execute();
      if (gone.length === 0) return [];
      await tx.deleteFrom('signing_keys').where('retired_at', '<', before).execute();
      await this.conn.notify(tx);

      return gone.map((k) => k.kid);
    });
  }

  /**
   * The named secret (32 random bytes), created by whichever node asks first; every node gets
   * the same value.
   */
  async secret(name: string): Promise<Buffer> {
    return this.conn.db.transaction().execute(async (tx) => {
      if (this.conn.engine === 'postgres') await sql`LOCK TABLE secrets IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
      const row = await tx.selectFrom('secrets').select('value').where('name', '=', name).executeTakeFirst();
      if (row) return Buffer.from(row.value, 'base64');
      const value = randomBytes(32);
      await tx.insertInto('secrets').values({ name, value: value.toString('base64'), created_at: Date.now() }).execute();

      return value;
    });
  }
}

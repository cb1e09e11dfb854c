import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Connection } from './connect.js';
import { parseGroups, PeopleStore } from './people.js';
import type { Database } from './tables.js';
import { insertSigningKey } from './writes.js';

export interface UserRecord {
  id: string;
  name: string;
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  /** An admin allowed this user bindings in both production and non-production namespaces. */
  mixedEnvironments: boolean;
  /** For a person from the OpenID provider: `<issuer>|<sub>`, and the groups named at the last sign-in. */
  externalSubject?: string | null;
  groups?: string[];
}

export interface NamespaceRecord {
  name: string;
  environment: string | null;
  createdAt: number;
  /** Pulls are refused when their audit record cannot be written first. */
  auditFailClosed: boolean;
}

export interface BindingRecord {
  principal: string;
  namespace: string;
  role: string;
  createdAt: number;
}

export interface SigningKeyRecord {
  kid: string;
  privateJwk: string;
  publicJwk: string;
  createdAt: number;
  retiredAt: number | null;
}

/** Users, namespaces, role bindings, refresh tokens and token-signing keys. */
export class PrincipalStore {
  /** People from the OpenID provider and their one-time login codes. */
  readonly people: PeopleStore;

  constructor(private readonly conn: Connection) {
    this.people = new PeopleStore(conn);
  }

  async createUser(name: string, passwordHash: string): Promise<UserRecord> {
    const row = {
      id: randomUUID(),
      name,
      password_hash: passwordHash,
      disabled: 0,
      created_at: Date.now(),
      allowed_cidrs: null,
      mixed_environments: 0,
    };
    await this.changing(async (db) => {
      await db.insertInto('users').values(row).execute();
    });

    return toUser(row);
  }

  async userByName(name: string): Promise<UserRecord | undefined> {
    const row = await this.conn.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();

    return row && toUser(row);
  }

  async userById(id: string): Promise<UserRecord | undefined> {
    const row = await this.conn.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();

    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.conn.db.selectFrom('users').selectAll().orderBy('name').execute();

    return rows.map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await this.conn.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();

    return Number(row.n);
  }

  /** Returns false when no such user exists. */
  async setDisabled(name: string, disabled: boolean): Promise<boolean> {
    return this.changing(async (db) => {
      const result = await db
        .updateTable('users')
        .set({ disabled: disabled ? 1 : 0 })
        .where('name', '=', name)
        .executeTakeFirst();

      return result.numUpdatedRows > 0n;
    });
  }

  /** Allows or forbids the user bindings in both production and non-production namespaces. */
  async setMixedEnvironments(name: string, allowed: boolean): Promise<boolean> {
    return this.changing(async (db) => {
      const result = await db
        .updateTable('users')
        .set({ mixed_environments: allowed ? 1 : 0 })
        .where('name', '=', name)
        .executeTakeFirst();

      return result.numUpdatedRows > 0n;
    });
  }

  /**
   * Replaces the password and deletes the user's refresh tokens, so that clients which logged
   * in with the old password (`docker login` keeps only the refresh token) must log in again.
   * Returns false when no such user exists.
   */
  async setPassword(name: string, passwordHash: string): Promise<boolean> {
    return this.changing(async (db) => {
      const user = await db
        .selectFrom('users')
        .select('id')
        .where('name', '=', name)
        .executeTakeFirst();
      if (!user) return false;
      await db
        .updateTable('users')
        .set({ password_hash: passwordHash })
        .where('id', '=', user.id)
        .execute();
      await db.deleteFrom('refresh_tokens').where('user_id', '=', user.id).execute();

      return true;
    });
  }

  async createNamespace(name: string, environment: string | null): Promise<boolean> {
    return this.changing(async (db) => {
      const result = await db
        .insertInto('namespaces')
        .values({ name, environment, created_at: Date.now(), audit_fail_closed: 0 })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();

      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    });
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    const rows = await this.conn.db.selectFrom('namespaces').selectAll().orderBy('name').execute();

    return rows.map((r) => ({ name: r.name, environment: r.environment, createdAt: r.created_at, auditFailClosed: r.audit_fail_closed !== 0 }));
  }

  /** Sets whether pulls in the namespace need their audit record written first; false for no such namespace. */
  async setAuditFailClosed(name: string, failClosed: boolean): Promise<boolean> {
    return this.changing(async (db) => {
      const result = await db.updateTable('namespaces').set({ audit_fail_closed: failClosed ? 1 : 0 }).where('name', '=', name).executeTakeFirst();

      return result.numUpdatedRows > 0n;
    });
  }

  /** Binds `principal` to `role` on `namespace`, replacing any role it had there. */
  async grant(principal: string, namespace: string, role: string): Promise<void> {
    await this.changing(async (db) => {
      await db
        .insertInto('bindings')
        .values({ id: randomUUID(), principal, namespace, role, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['principal', 'namespace']).doUpdateSet({ role }))
        .execute();
    });
  }

  /** Removes the binding; with `role`, only when it is that role. Returns whether one went. */
  async revoke(principal: string, namespace: string, role?: string): Promise<boolean> {
    return this.changing(async (db) => {
      let query = db
        .deleteFrom('bindings')
        .where('principal', '=', principal)
        .where('namespace', '=', namespace);
      if (role) query = query.where('role', '=', role);
      const result = await query.executeTakeFirst();

      return result.numDeletedRows > 0n;
    });
  }

  async listBindings(): Promise<BindingRecord[]> {
    const rows = await this.conn.db.selectFrom('bindings').selectAll().orderBy('namespace').execute();

    return rows.map((r) => ({ principal: r.principal, namespace: r.namespace, role: r.role, createdAt: r.created_at }));
  }

  async saveRefreshToken(tokenHash: string, userId: string, expiresAt: number): Promise<void> {
    await this.conn.db
      .insertInto('refresh_tokens')
      .values({ token_hash: tokenHash, user_id: userId, created_at: Date.now(), expires_at: expiresAt })
      .execute();
  }

  async refreshTokenUser(tokenHash: string, now: number): Promise<string | undefined> {
    const row = await this.conn.db
      .selectFrom('refresh_tokens')
      .select('user_id')
      .where('token_hash', '=', tokenHash)
      .where('expires_at', '>', now)
      .executeTakeFirst();

    return row?.user_id;
  }

  async signingKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.conn.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();

    return rows.map((r) => ({
      kid: r.kid,
      privateJwk: r.private_jwk,
      publicJwk: r.public_jwk,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
    }));
  }

  /** Stores a key unless one exists already; returns the keys as stored (first writer wins). */
  async addSigningKeyIfNone(key: Omit<SigningKeyRecord, 'retiredAt'>): Promise<SigningKeyRecord[]> {
    await this.conn.db.transaction().execute(async (tx) => {
      // Nodes starting together must agree: under READ COMMITTED each would see no key and
      // insert its own, so PostgreSQL callers queue on a lock (SQLite transactions already do).
      if (this.conn.engine === 'postgres') {
        await sql`LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
      }
      const existing = await tx.selectFrom('signing_keys').select('kid').executeTakeFirst();
      if (existing) return;
      await insertSigningKey(tx, key);
    });

    return this.signingKeys();
  }

  private async changing<T>(work: (db: Connection['db']) => Promise<T>): Promise<T> {
    return this.conn.db.transaction().execute(async (tx) => {
      const result = await work(tx);
      await this.conn.notify(tx);

      return result;
    });
  }
}

function toUser(row: Database['users']): UserRecord {
  return {
    id: row.id,
    name: row.name,
    passwordHash: row.password_hash,
    disabled: row.disabled !== 0,
    createdAt: row.created_at,
    mixedEnvironments: row.mixed_environments !== 0,
    externalSubject: row.external_subject ?? null,
    groups: parseGroups(row.groups),
  };
}

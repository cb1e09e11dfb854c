import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Driver,
  type SqliteDatabase,
} from 'kysely';
import pg from 'pg';
import { migrationProvider, type ColumnTypes } from './migrations.js';
import { listenForChanges } from './pg-change-feed.js';
import type { Database } from './tables.js';

/** Tells whether access-relevant data may have changed since the last call, cheaply. */
export interface ChangeFeed {
  /** An opaque value that differs whenever another process or node committed a change. */
  generation(): string;
  /** Records that this process changed access-relevant data itself. */
  touch(): void;
  close(): Promise<void>;
}

export interface Connection {
  db: Kysely<Database>;
  engine: 'sqlite' | 'postgres';
  changes: ChangeFeed;
  /** Publishes a change to other processes and nodes (a no-op where the engine sees it). */
  notify(db: Kysely<Database>): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = 'portcullis_changes';

// pg returns int8 as strings; every bigint we store is a time or a size well within 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

/** Opens the metadata store named by `database` ("sqlite" or a postgres:// URL) and migrates it. */
export async function connect(database: string, dataDir: string): Promise<Connection> {
  const connection = database === 'sqlite' ? openSqlite(dataDir) : await openPostgres(database);
  const types: ColumnTypes =
    connection.engine === 'sqlite'
      ? { bigint: 'integer', bytes: sql`blob` }
      : { bigint: 'bigint', bytes: sql`bytea` };
  const migrator = new Migrator({ db: connection.db, provider: migrationProvider(types) });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await connection.close();
    throw new Error('failed to migrate the metadata store', { cause: error });
  }

  return connection;
}

function openSqlite(dataDir: string): Connection {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const raw = new SQLite(path.join(dataDir, 'portcullis.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: reusingStatements(raw) }) });
  const version = raw.prepare('PRAGMA data_version').pluck();
  let local = 0;
  const changes: ChangeFeed = {
    // data_version moves when another connection (the CLI, another process) commits.
    generation: () => `${local}:${String(version.get())}`,
    touch: () => void local++,
    close: async () => {},
  };

  return {
    db,
    engine: 'sqlite',
    changes,
    notify: async () => changes.touch(),
    close: () => db.destroy(),
  };
}

/**
 * Opens SQLite transactions with BEGIN IMMEDIATE. A deferred transaction that reads before it
 * writes fails at once with SQLITE_BUSY when another process (the CLI, a second server)
 * commits in between, and busy_timeout cannot save it; taking the write lock first makes it
 * wait its turn instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };

    return driver;
  }
}

/** Kysely prepares every query afresh; keeping prepared statements saves most of a lookup. */
function reusingStatements(raw: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();

  return {
    close: () => raw.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (!statement) {
        if (statements.size >= 1000) statements.clear();
        statement = raw.prepare(text);
        statements.set(text, statement);
      }

      return statement;
    },
  };
}

async function openPostgres(url: string): Promise<Connection> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection the server ends (a restart, a failover, an admin's terminate) must not
  // take the process down with an unhandled 'error'; the pool drops it, and the next query
  // opens a new one and reports its own failure if the database is still away.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const changes = await listenForChanges(url, CHANNEL);

  return {
    db,
    engine: 'postgres',
    changes,
    notify: async (tx) => {
      changes.touch();
      await sql`SELECT pg_notify(${CHANNEL}, '')`.execute(tx);
    },
    close: async () => {
      await changes.close();
      await db.destroy();
    },
  };
}

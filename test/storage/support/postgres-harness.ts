import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { POSTGRES_ADMIN_URL, createTestDatabase } from '../../helpers/postgres.js';
import { connect, type Connection } from '../../../src/storage/metadata/connect.js';
import { openMetadataStore } from '../../../src/storage/metadata/index.js';
import type { MetadataHarness } from '../metadata-suite.js';

/** PostgreSQL ignores the data directory; the store is given one that is never created. */
const UNUSED_DATA_DIR = '/nonexistent/portcullis-postgres-test';

interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * One database for a whole suite run, emptied before every test: creating a database takes
 * about a second, emptying one a few milliseconds. `open` is the suite's per-test opener.
 */
export function sharedDatabase(create: () => Promise<TestDatabase>) {
  let database: Promise<TestDatabase> | undefined;

  return {
    open: async (): Promise<MetadataHarness> => {
      database ??= create();
      const { url } = await database;
      await emptyTables(url);

      return harness(url);
    },
    drop: async (): Promise<void> => {
      if (database) await (await database).drop();
    },
  };
}

/** A database made by the shared helper, with the server's default collation. */
export const helperDatabase = createTestDatabase;

/**
 * A database whose default collation is ICU `en-US`, as many production servers are set up.
 * Listings promised in byte order must not depend on the server's collation.
 */
export async function englishCollationDatabase(): Promise<TestDatabase> {
  const name = `portcullis_test_icu_${randomBytes(6).toString('hex')}`;
  await adminQuery(
    `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
  );
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;

  return {
    url: url.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function harness(url: string): Promise<MetadataHarness> {
  const store = await openMetadataStore(url, UNUSED_DATA_DIR);
  const peers: Connection[] = [];

  return {
    store,
    connectAgain: async () => {
      const peer = await connect(url, UNUSED_DATA_DIR);
      peers.push(peer);

      return peer;
    },
    cleanup: async () => {
      for (const peer of peers) await peer.close();
      await store.close();
    },
  };
}

/** Empties every table the migrations made (the migrator's own bookkeeping stays). */
async function emptyTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely%'",
    );
    if (rows.length > 0)
      await client.query(`TRUNCATE ${rows.map((r) => `"${r.name}"`).join(', ')}`);
  } finally {
    await client.end();
  }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

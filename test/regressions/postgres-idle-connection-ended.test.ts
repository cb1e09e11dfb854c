import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMetadataStore, type MetadataStore } from '../../src/storage/metadata/index.js';
import { createTestDatabase, POSTGRES_ADMIN_URL } from '../helpers/postgres.js';

/**
 * Regression: when PostgreSQL ended an idle pooled connection (here as an admin's
 * pg_terminate_backend; a restart or failover does the same), the pool's 'error' event had no
 * listener and took the process down (seen as an unhandled 57P01 after a test's teardown).
 */
describe('PostgreSQL ending an idle connection', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: MetadataStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await openMetadataStore(database.url, await mkdtemp(path.join(tmpdir(), 'portcullis-pg-idle-')));
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it('neither crashes the process nor keeps the store from answering the next query', async () => {
    await store.content.listRepositories(undefined, 10);
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      const name = new URL(database.url).pathname.slice(1);
      const ended = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      expect(ended.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await store.content.listRepositories(undefined, 10)).toEqual([]);
  });
});

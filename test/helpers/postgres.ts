import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the suites use; override with PORTCULLIS_TEST_POSTGRES. */
export const POSTGRES_ADMIN_URL = process.env.PORTCULLIS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let reachable: Promise<boolean> | undefined;

/** True when the test PostgreSQL server answers. Says so loudly once when it does not. */
export function postgresAvailable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (err) {
      const required = process.env.CI === 'true' || process.env.PORTCULLIS_REQUIRE_POSTGRES === '1';
      const message = `PostgreSQL is NOT reachable at ${POSTGRES_ADMIN_URL} (${(err as Error).message}); the PostgreSQL runs of the shared suites are SKIPPED`;
      if (required) throw new Error(`${message} — CI requires it`);
      process.stderr.write(`\n!!! ${message}\n\n`);
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();

  return reachable;
}

/** Creates an empty database for one test file and returns its URL and a dropper. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `portcullis_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;

  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

import { createTestDatabase, postgresAvailable } from '../../helpers/postgres.js';

/** A metadata engine a server process can run on. */
export interface Engine {
  name: string;
  /** How long a change made by another process may take to reach the server (0: at once). */
  deadlineMs: number;
  /** The environment that points a server (and the CLI) at a fresh database, and its dropper. */
  database(): Promise<{ env: Record<string, string>; drop(): Promise<void> }>;
}

const sqlite: Engine = {
  name: 'sqlite',
  deadlineMs: 0,
  database: async () => ({ env: {}, drop: async () => {} }),
};

const postgres: Engine = {
  name: 'postgresql',
  // LISTEN/NOTIFY is asynchronous; a change is allowed up to a second to arrive.
  deadlineMs: 1_000,
  database: async () => {
    const db = await createTestDatabase();

    return { env: { PORTCULLIS_DATABASE: db.url }, drop: db.drop };
  },
};

/**
 * SQLite always; PostgreSQL when the test server answers. When it does not, the helper prints
 * a SKIPPED banner, and throws when CI=true so that a CI run cannot pass without it.
 */
export async function availableEngines(): Promise<Engine[]> {
  return (await postgresAvailable()) ? [sqlite, postgres] : [sqlite];
}

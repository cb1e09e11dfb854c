import { afterEach, beforeEach, describe } from 'vitest';
import type { Connection } from '../../src/storage/metadata/connect.js';
import type { MetadataStore } from '../../src/storage/metadata/index.js';
import { contentCases } from './support/metadata-content-cases.js';
import { identityCases } from './support/metadata-identity-cases.js';
import { principalCases } from './support/metadata-principal-cases.js';

/** One metadata store under test, on a database of its own. */
export interface MetadataHarness {
  store: MetadataStore;
  /**
   * Opens a second, independent connection to the same database, as the CLI or another node
   * would. The harness closes it in `cleanup`.
   */
  connectAgain(): Promise<Connection>;
  cleanup(): Promise<void>;
}

export interface MetadataSuiteOptions {
  /**
   * Whether two connections in one process can run transactions at the same time. Not so
   * for better-sqlite3, which is synchronous: a connection waiting for a lock blocks the only
   * thread, so racing nodes are checked across processes for SQLite instead.
   */
  concurrentConnections: boolean;
}

/** How long a change made elsewhere may take to show in the change feed (LISTEN/NOTIFY). */
export const FEED_DEADLINE_MS = 1_000;

/**
 * The conformance suite every metadata store (SQLite, PostgreSQL) must pass: each public
 * method of ContentStore and PrincipalStore, and the change feed. `open` gives a fresh,
 * empty store for every test.
 */
export function metadataSuite(
  name: string,
  open: () => Promise<MetadataHarness>,
  options: MetadataSuiteOptions,
): void {
  describe(`metadata store conformance: ${name}`, () => {
    let harness: MetadataHarness | undefined;
    const current = (): MetadataHarness => {
      if (!harness) throw new Error('the store did not open');
      return harness;
    };

    beforeEach(async () => {
      harness = await open();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    contentCases(current);
    principalCases(current, options);
    identityCases(current);
  });
}

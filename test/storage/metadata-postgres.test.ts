import { afterAll, describe, it } from 'vitest';
import { postgresAvailable } from '../helpers/postgres.js';
import { metadataSuite } from './metadata-suite.js';
import {
  englishCollationDatabase,
  helperDatabase,
  sharedDatabase,
} from './support/postgres-harness.js';

// When the server is unreachable the helper prints a banner (and throws when CI=true).
const available = await postgresAvailable();

if (available) {
  const plain = sharedDatabase(helperDatabase);
  const english = sharedDatabase(englishCollationDatabase);
  afterAll(async () => {
    await plain.drop();
    await english.drop();
  });

  metadataSuite('postgresql', plain.open, { concurrentConnections: true });
  metadataSuite('postgresql, ICU en-US default collation', english.open, {
    concurrentConnections: true,
  });
} else {
  describe('metadata store conformance: postgresql', () => {
    it.skip('SKIPPED: PostgreSQL is not reachable (see the banner above)', () => {});
  });
}

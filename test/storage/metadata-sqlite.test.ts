import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connect, type Connection } from '../../src/storage/metadata/connect.js';
import { openMetadataStore } from '../../src/storage/metadata/index.js';
import { DIST_METADATA, requireBuild } from '../cli/support/built.js';
import { metadataSuite } from './metadata-suite.js';

const run = promisify(execFile);

metadataSuite(
  'sqlite',
  async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'portcullis-meta-'));
    const store = await openMetadataStore('sqlite', dataDir);
    const peers: Connection[] = [];

    return {
      store,
      connectAgain: async () => {
        const peer = await connect('sqlite', dataDir);
        peers.push(peer);

        return peer;
      },
      cleanup: async () => {
        for (const peer of peers) await peer.close();
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  },
  { concurrentConnections: false },
);

describe('metadata store: sqlite shared by several processes', () => {
  it('processes racing on an empty store all end up with the same single key', async () => {
    requireBuild();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'portcullis-race-'));
    try {
      // Migrate first, so the race is about the key and not about creating tables.
      await (await openMetadataStore('sqlite', dataDir)).close();
      const script = path.join(import.meta.dirname, 'support', 'add-signing-key.mjs');
      const startAt = String(Date.now() + 1500);
      const outputs = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          run(process.execPath, [script, DIST_METADATA, dataDir, startAt, `kid-${n}`]),
        ),
      );
      const results = outputs.map((o) => JSON.parse(o.stdout) as string[]);

      expect(results[0]).toHaveLength(1);
      for (const r of results) expect(r).toEqual(results[0]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

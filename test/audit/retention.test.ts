import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/support/run-cli.js';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

describe('audit retention', () => {
  let registry: TestRegistry;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', registry.dataDir]);

  beforeAll(async () => {
    registry = await startRegistry();
    await new RegistryClient(registry.url, 'admin', registry.adminPassword).pushImage('team/app', 'v1');
    await registry.restart();
  });
  afterAll(() => registry.close());

  it('prunes old events behind a signed summary, and the rest of the chain still verifies', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const pruned = await cli('audit', 'prune', '--older-than', '1s');
    expect(pruned.stdout).toMatch(/^pruned events 1–(\d+) \(\1\); the chain goes on from [0-9a-f]{64}\n$/);
    await new RegistryClient(registry.url, 'admin', registry.adminPassword).pushImage('team/app', 'v2');
    await registry.restart();

    const verified = await cli('audit', 'verify');
    expect(verified.stdout).toMatch(/^audit chain intact: \d+ events, head [0-9a-f]{64}\n$/);
    expect((await cli('audit', 'prune', '--older-than', '365d')).stdout).toBe('no events are that old\n');
  });

  it('detects an altered or deleted summary', async () => {
    const db = new SQLite(path.join(registry.dataDir, 'portcullis.db'));
    try {
      const summary = db.prepare('SELECT * FROM audit_summaries').get() as { last_seq: number; last_hash: string };
      db.prepare("UPDATE audit_summaries SET last_hash = 'ff' || substr(last_hash, 3)").run();
      expect((await cli('audit', 'verify')).stdout).toMatch(/^audit chain broken at event 1: the summary of pruned events 1–\d+ was altered after it was signed/);
      db.prepare('UPDATE audit_summaries SET last_hash = ?').run(summary.last_hash);
      db.prepare('DELETE FROM audit_summaries').run();
      const deleted = await cli('audit', 'verify');
      expect(deleted.code).toBe(2);
      expect(deleted.stdout).toMatch(/^audit chain broken at event 1: events 1–\d+ are missing \(deleted\)|^audit chain broken at event 1: event 1 is missing/);
    } finally {
      db.close();
    }
  });
});

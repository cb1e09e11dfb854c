import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkHash } from '../../src/audit/chain.js';
import type { AuditRow } from '../../src/storage/metadata/index.js';
import { runCli } from '../cli/support/run-cli.js';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

type Columns = Record<string, unknown> & { seq: number };

/** The row as the chain hashes it. */
function asRow(c: Columns): Omit<AuditRow, 'hash'> {
  return {
    seq: c.seq, at: c.at as number, node: c.node as string, requestId: c.request_id as string | null, action: c.action as string,
    outcome: c.outcome as string, reason: c.reason as string | null, principal: c.principal as string | null,
    credential: c.credential as string | null, tokenId: c.token_id as string | null, federated: c.federated as string | null,
    address: c.address as string | null, userAgent: c.user_agent as string | null, repository: c.repository as string | null,
    reference: c.reference as string | null, digest: c.digest as string | null, bytes: c.bytes as number | null, prevHash: c.prev_hash as string,
  };
}

/**
 * Someone with write access to the database rewrites history cleverly: edits one event and
 * recomputes every hash after it, or cuts the end off and moves the head back. The chain alone
 * then verifies; the signed checkpoints must not.
 */
describe('signed audit checkpoints', () => {
  let registry: TestRegistry;
  let db: SQLite.Database;
  const verify = (...args: string[]) => runCli(['audit', 'verify', ...args, '--data-dir', registry.dataDir]);

  beforeAll(async () => {
    registry = await startRegistry();
    const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    await admin.pushImage('team/app', 'v1');
    // Closing writes a checkpoint at the end of the chain.
    await registry.restart();
    db = new SQLite(path.join(registry.dataDir, 'portcullis.db'));
  });
  afterAll(async () => {
    db.close();
    await registry.close();
  });

  it('are written and verify', async () => {
    expect((db.prepare('SELECT COUNT(*) AS n FROM audit_checkpoints').get() as { n: number }).n).toBeGreaterThanOrEqual(1);
    const result = await verify();
    expect(result.stdout).toMatch(/^audit chain intact: /);
  });

  it('verify against keys kept elsewhere, and refuse a checkpoint signed by a key not among them', async () => {
    const saved = path.join(registry.dataDir, 'jwks-copy.json');
    await writeFile(saved, await (await fetch(`${registry.url}/token/jwks`)).text());
    expect((await verify('--keys', saved)).code).toBe(0);
    await writeFile(saved, JSON.stringify({ keys: [] }));
    const refused = await verify('--keys', saved);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/is signed by key \S+, which is not among the trusted keys/);
  });

  it('catch a chain rewritten after an edit (every hash recomputed)', async () => {
    const rows = db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Columns[];
    const original = rows.map((r) => ({ ...r }));
    const rewrite = db.prepare('UPDATE audit_events SET credential = ?, prev_hash = ?, hash = ? WHERE seq = ?');
    let prev = rows[0]!.prev_hash as string;
    for (const row of rows) {
      const credential = row.seq === 2 ? 'mallory' : (row.credential as string | null);
      const hash = linkHash({ ...asRow(row), credential, prevHash: prev });
      rewrite.run(credential, prev, hash, row.seq);
      prev = hash;
    }
    db.prepare('UPDATE audit_head SET hash = ? WHERE id = 1').run(prev);
    try {
      const result = await verify();
      expect(result.code).toBe(2);
      expect(result.stdout).toMatch(/^audit chain broken at event \d+: event \d+ differs from its signed checkpoint \(the chain up to it was rewritten\)/);
    } finally {
      for (const row of original) rewrite.run(row.credential, row.prev_hash, row.hash, row.seq);
      db.prepare('UPDATE audit_head SET hash = ? WHERE id = 1').run(original.at(-1)!.hash);
    }
    expect((await verify()).code).toBe(0);
  });

  it('catch a cut-off end whose head was moved back', async () => {
    const last = db.prepare('SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1').get() as Columns;
    db.prepare('DELETE FROM audit_events WHERE seq = ?').run(last.seq);
    db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(last.seq - 1, last.prev_hash);
    const result = await verify();
    expect(result.stdout).toMatch(/a signed checkpoint names event \d+, past the end of the chain \(events at the end were deleted\)/);
  });

  it('catch an altered checkpoint', async () => {
    db.prepare("UPDATE audit_checkpoints SET hash = 'ff' || substr(hash, 3)").run();
    expect((await verify()).stdout).toMatch(/the checkpoint at event \d+ was altered after it was signed/);
  });
});

import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/storage/metadata/index.js';
import { runCli } from '../cli/support/run-cli.js';
import { basic, RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, withStore } from '../auth/support/accounts.js';

/** Waits until the batched read events have been written and `check` holds. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('audit log', () => {
  let registry: TestRegistry;
  let image: Awaited<ReturnType<RegistryClient['pushImage']>>;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', registry.dataDir]);
  const events = () => withStore(registry, (store) => store.audit.query({}, 0, 1000));

  beforeAll(async () => {
    registry = await startRegistry();
    const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    image = await admin.pushImage('team/app', 'v1');
    const carol = await addUser(registry, 'carol', [['team', 'reader']]);
    const client = new RegistryClient(registry.url, carol.name, carol.password);
    expect((await client.request('/v2/team/app/manifests/v1', { headers: { 'User-Agent': 'audit-test/1.0' } })).status).toBe(200);
    expect((await client.request(`/v2/team/app/blobs/${image.layerDigest}`)).status).toBe(200);
    expect((await fetch(`${registry.url}/token?service=portcullis`, { headers: { Authorization: basic('carol', 'not-her-password') } })).status).toBe(401);
  });
  afterAll(() => registry.close());

  it('records a push before answering, with who, what and from where', async () => {
    const rows = await events();
    const push = rows.find((r) => r.action === 'manifest.push');
    expect(push).toMatchObject({ outcome: 'allowed', credential: 'admin', repository: 'team/app', reference: 'v1', digest: image.digest, address: '127.0.0.1' });
    expect(push?.tokenId).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows.filter((r) => r.action === 'blob.push').map((r) => r.digest).sort()).toEqual([image.configDigest, image.layerDigest].sort());
  });

  it('records every pull with the digest, bytes sent, credential, address and user agent', async () => {
    const rows = await eventually(events, (r) => r.filter((e) => e.credential === 'carol' && e.action.endsWith('.pull')).length === 2);
    const pulls = rows.filter((r) => r.credential === 'carol' && r.action.endsWith('.pull'));
    expect(pulls).toEqual([
      expect.objectContaining({ action: 'manifest.pull', reference: 'v1', digest: image.digest, bytes: image.manifest.length, userAgent: 'audit-test/1.0', outcome: 'allowed' }),
      expect.objectContaining({ action: 'blob.pull', digest: image.layerDigest, bytes: image.layer.length, address: '127.0.0.1' }),
    ]);
  });

  it('records sign-ins, failed ones with the name tried and why', async () => {
    const rows = await eventually(events, (r) => r.some((e) => e.action === 'auth.token' && e.outcome === 'denied'));
    expect(rows).toContainEqual(expect.objectContaining({ action: 'auth.token', outcome: 'allowed', credential: 'carol', principal: expect.stringMatching(/^user:/) }));
    expect(rows).toContainEqual(expect.objectContaining({ action: 'auth.token', outcome: 'denied', credential: 'carol', reason: 'UNAUTHORIZED' }));
  });

  it('answers "what did this credential pull" and "who pulled this digest" from the CLI', async () => {
    const byDigest = await cli('audit', 'pulls', '--digest', image.layerDigest);
    expect(byDigest.stderr).toBe('');
    const lines = byDigest.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split('\t').slice(2, 9)).toEqual(['blob.pull', 'allowed', 'carol', '127.0.0.1', 'team/app', image.layerDigest, image.layerDigest]);

    const byCredential = await cli('audit', 'pulls', '--credential', 'carol', '--since', '1h', '--json');
    const parsed = byCredential.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => p.digest)).toEqual([image.digest, image.layerDigest]);
    expect(parsed[0]).not.toHaveProperty('hash');
  });

  it('records admin changes made with the CLI and through the admin API, refused ones with the reason', async () => {
    expect((await cli('namespace', 'create', 'ops')).code).toBe(0);
    expect((await cli('grant', 'owner', 'carol', 'ops')).code).toBe(1);
    const token = ((await (await fetch(`${registry.url}/token?service=portcullis&scope=registry:admin:*`, { headers: { Authorization: basic('admin', registry.adminPassword) } })).json()) as { token: string }).token;
    const created = await fetch(`${registry.url}/admin/v1/namespaces`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify({ name: 'apiops' }) });
    expect(created.status).toBe(201);

    const rows = await events();
    const cliRows = rows.filter((r) => r.action === 'admin.cli');
    expect(cliRows.map((r) => [r.outcome, r.reference?.split(' --data-dir')[0], r.reason])).toEqual([
      ['allowed', 'portcullis namespace create ops', null],
      ['failed', 'portcullis grant owner carol ops', 'role must be one of reader, writer, maintainer, admin'],
    ]);
    expect(cliRows[0]!.credential).toMatch(/^cli:/);
    expect(rows).toContainEqual(expect.objectContaining({ action: 'admin.post', reference: '/admin/v1/namespaces', credential: 'admin', outcome: 'allowed' }));
  });

  it('verifies an intact chain, then names the first event edited, deleted or reordered in the database', async () => {
    const intact = await cli('audit', 'verify');
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^audit chain intact: \d+ events, head [0-9a-f]{64}\n$/);

    const db = new SQLite(path.join(registry.dataDir, 'portcullis.db'));
    const tamper = (sql: string) => db.prepare(sql).run();
    try {
      const rows = db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Array<Record<string, unknown>>;
      const third = rows[2]!;
      tamper(`UPDATE audit_events SET credential = 'mallory' WHERE seq = 3`);
      expect((await cli('audit', 'verify')).stdout).toBe('audit chain broken at event 3: event 3 was edited after it was recorded (2 events verified before it)\n');
      tamper(`UPDATE audit_events SET credential = ${third.credential === null ? 'NULL' : `'${String(third.credential)}'`} WHERE seq = 3`);
      expect((await cli('audit', 'verify')).code).toBe(0);

      tamper('DELETE FROM audit_events WHERE seq = 2');
      const deleted = await cli('audit', 'verify');
      expect(deleted.code).toBe(2);
      expect(deleted.stdout).toBe('audit chain broken at event 2: event 2 is missing (deleted) (1 event verified before it)\n');
    } finally {
      db.close();
    }
  });
});

describe('audit log tampering by reordering and truncation', () => {
  it('names the first moved event, and a cut-off end', async () => {
    const registry = await startRegistry();
    try {
      const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
      await admin.pushImage('team/app', 'v1');
      const db = new SQLite(path.join(registry.dataDir, 'portcullis.db'));
      try {
        const row = (seq: number) => db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq) as AuditRowColumns;
        const [a, b] = [row(2), row(3)];
        // Swap the contents of events 2 and 3, keeping their sequence numbers.
        const put = db.prepare('UPDATE audit_events SET action = ?, digest = ?, prev_hash = ?, hash = ?, at = ? WHERE seq = ?');
        put.run(b.action, b.digest, b.prev_hash, b.hash, b.at, 2);
        put.run(a.action, a.digest, a.prev_hash, a.hash, a.at, 3);
        const swapped = await runCli(['audit', 'verify', '--data-dir', registry.dataDir]);
        expect(swapped.stdout).toBe('audit chain broken at event 2: event 2 does not follow event 1 (deleted, reordered or edited) (1 event verified before it)\n');
        put.run(a.action, a.digest, a.prev_hash, a.hash, a.at, 2);
        put.run(b.action, b.digest, b.prev_hash, b.hash, b.at, 3);

        const last = db.prepare('SELECT MAX(seq) AS seq FROM audit_events').get() as { seq: number };
        db.prepare('DELETE FROM audit_events WHERE seq = ?').run(last.seq);
        const cut = await runCli(['audit', 'verify', '--data-dir', registry.dataDir]);
        expect(cut.stdout).toMatch(/^audit chain broken at event \d+: the chain ends at event \d+ but its head says \d+ \(events at the end were deleted\)/);
      } finally {
        db.close();
      }
    } finally {
      await registry.close();
    }
  });
});

type AuditRowColumns = { action: string; digest: string | null; prev_hash: string; hash: string; at: number } & Partial<AuditRow>;

import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { withStore } from '../auth/support/accounts.js';

/** The audit table made unwritable from outside, the way a broken store would behave. */
function breakAudit(registry: TestRegistry, broken: boolean) {
  const db = new SQLite(path.join(registry.dataDir, 'portcullis.db'));
  try {
    db.prepare(broken ? 'ALTER TABLE audit_events RENAME TO audit_events_away' : 'ALTER TABLE audit_events_away RENAME TO audit_events').run();
  } finally {
    db.close();
  }
}

async function until(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return true;
}

describe('when audit events cannot be written', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    await admin.pushImage('team/app', 'v1');
  });
  afterAll(() => registry.close());

  it('answers a change with 503 rather than success, says so in /readyz and the metrics, and catches up after', async () => {
    breakAudit(registry, true);
    try {
      const push = await admin.request('/v2/team/app/manifests/v1', {
        method: 'PUT',
        body: Buffer.from(await (await admin.request('/v2/team/app/manifests/v1')).arrayBuffer()),
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      });
      expect(push.status).toBe(503);
      expect(await push.json()).toEqual({ errors: [{ code: 'UNAVAILABLE', message: 'the change could not be recorded in the audit log' }] });

      expect(await until(async () => (await fetch(`${registry.url}/readyz`)).status === 503)).toBe(true);
      expect(await (await fetch(`${registry.url}/readyz`)).json()).toMatchObject({ status: 'not ready', checks: { audit: 'failing' } });
      const metrics = await (await fetch(`${registry.url}/metrics`)).text();
      expect(metrics).toMatch(/^portcullis_audit_healthy 0$/m);
      expect(metrics).toMatch(/^portcullis_audit_pending_events [1-9]\d*$/m);
    } finally {
      breakAudit(registry, false);
    }
    // The queued reads are written once the store works again; nothing was dropped.
    expect(await until(async () => (await fetch(`${registry.url}/readyz`)).status === 200)).toBe(true);
    const pulls = await withStore(registry, (store) => store.audit.query({ actions: ['manifest.pull'] }, 0, 100));
    expect(pulls.length).toBeGreaterThanOrEqual(1);
    // The refused push did store the manifest, so its record is written too, late but not lost.
    const pushes = await withStore(registry, (store) => store.audit.query({ actions: ['manifest.push'] }, 0, 100));
    expect(pushes.map((p) => p.reason)).toEqual([null, 'written late: the first write failed and the client was answered 503']);
    expect(await (await fetch(`${registry.url}/metrics`)).text()).toMatch(/^portcullis_audit_dropped_events 0$/m);
  });
});

describe('a namespace set to fail closed', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    await admin.pushImage('vault/app', 'v1');
    await admin.pushImage('open/app', 'v1');
    await withStore(registry, async (store) => {
      await store.principals.createNamespace('vault', null);
      await store.principals.setAuditFailClosed('vault', true);
    });
  });
  afterAll(() => registry.close());

  it('has each pull recorded before it is served', async () => {
    const response = await admin.request('/v2/vault/app/manifests/v1');
    expect(response.status).toBe(200);
    const rows = await withStore(registry, (store) => store.audit.query({ repository: 'vault/app', actions: ['manifest.pull'] }, 0, 10));
    expect(rows).toHaveLength(1);
  });

  it('refuses a pull whose record cannot be written, while other namespaces still serve', async () => {
    breakAudit(registry, true);
    try {
      const refused = await admin.request('/v2/vault/app/manifests/v1');
      expect(refused.status).toBe(503);
      expect(await refused.json()).toEqual({ errors: [{ code: 'UNAVAILABLE', message: 'the pull could not be recorded in the audit log' }] });
      expect((await admin.request('/v2/open/app/manifests/v1')).status).toBe(200);
    } finally {
      breakAudit(registry, false);
    }
  });
});

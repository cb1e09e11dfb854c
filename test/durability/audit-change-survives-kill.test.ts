import SQLite from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

/**
 * A change is in the audit log before its response goes out: a server killed right after
 * answering a push must not lose the record of it.
 */
describe('audit records of changes across a SIGKILL', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(() => server.dispose());

  it('keeps the record of a push answered just before the kill', async () => {
    const admin = new RegistryClient(server.url, 'admin', server.adminPassword);
    const image = await admin.pushImage('team/app', 'v1');
    await server.stop('SIGKILL');

    const db = new SQLite(path.join(server.dataDir, 'portcullis.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT action, digest, credential FROM audit_events WHERE action IN ('manifest.push', 'blob.push') ORDER BY seq").all();
      expect(rows).toEqual([
        { action: 'blob.push', digest: image.layerDigest, credential: 'admin' },
        { action: 'blob.push', digest: image.configDigest, credential: 'admin' },
        { action: 'manifest.push', digest: image.digest, credential: 'admin' },
      ]);
    } finally {
      db.close();
    }
    await server.start();
    expect((await admin.request('/v2/team/app/manifests/v1')).status).toBe(200);
  });
});

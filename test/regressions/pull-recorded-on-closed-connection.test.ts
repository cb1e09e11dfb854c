import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStore } from '../auth/support/accounts.js';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/** GETs `path` on a fresh connection marked `Connection: close`, destroying the socket as soon as the body is in. */
function getAndHangUp(base: string, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(path, base), { headers: { Authorization: `Bearer ${token}`, Connection: 'close' }, agent: false }, (res) => {
      let bytes = 0;
      const length = Number(res.headers['content-length']);
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes >= length) {
          res.socket.destroy();
          resolve(res.statusCode ?? 0);
        }
      });
    });
    req.on('error', reject);
  });
}

/**
 * Regression: reads were queued for the audit log only when the response 'finish'ed; a client
 * that hung up as soon as it had the bytes left no record, so exposure reports missed pulls.
 */
describe('a pull over a connection closed right after the body is still recorded', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  });
  afterAll(() => registry.close());

  it('records every one of 20 such blob pulls', async () => {
    const image = await admin.pushImage('team/app', 'v1');
    const token = await admin.token(['repository:team/app:pull']);
    for (let i = 0; i < 20; i++) expect(await getAndHangUp(registry.url, `/v2/team/app/blobs/${image.layerDigest}`, token)).toBe(200);
    const deadline = Date.now() + 5000;
    let recorded = 0;
    while (Date.now() < deadline) {
      recorded = (await withStore(registry, (store) => store.audit.query({ digest: image.layerDigest, actions: ['blob.pull'] }, 0, 100))).length;
      if (recorded >= 20) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(recorded).toBe(20);
  });
});

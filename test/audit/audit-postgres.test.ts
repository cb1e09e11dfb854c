import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/verify.js';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { withStore } from '../auth/support/accounts.js';

describe('audit log on PostgreSQL', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ engine: 'postgres' });
  });
  afterAll(() => registry?.close());

  it('chains events from concurrent requests into one intact, checkpointed chain', async () => {
    const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    const image = await admin.pushImage('team/app', 'v1');
    await Promise.all(Array.from({ length: 20 }, () => admin.request(`/v2/team/app/blobs/${image.layerDigest}`)));
    await registry.restart();

    const report = await withStore(registry, (store) => verifyChain(store));
    expect(report).toMatchObject({ intact: true });
    const pulls = await withStore(registry, (store) => store.audit.query({ digest: image.layerDigest, actions: ['blob.pull'] }, 0, 100));
    expect(pulls).toHaveLength(20);
    expect((await withStore(registry, (store) => store.audit.checkpoints())).length).toBeGreaterThanOrEqual(1);
  });
});

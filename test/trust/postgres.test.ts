import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { adminApi, cosignSign, p256, pushIndex } from './support.js';

/** The trust queries on PostgreSQL: policies, signed indexes holding a platform manifest, quarantine. */
describe('trust policy on PostgreSQL', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;
  const key = p256();

  beforeAll(async () => {
    registry = await startRegistry({ engine: 'postgres' });
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    expect((await adminApi(admin, 'PUT', '/trust/policy?namespace=prod', { signers: [{ name: 'release', key: key.publicPem }] })).status).toBe(200);
  });
  afterAll(() => registry.close());

  it('serves a platform manifest through its signed index, and only then', async () => {
    const amd = await admin.pushImage('prod/multi', 'amd64');
    const index = await pushIndex(admin, 'prod/multi', 'v1', [{ digest: amd.digest, size: amd.manifest.length }]);
    // Unsigned indexes holding the same manifest do not count, however many there are.
    for (let i = 0; i < 10; i++) await pushIndex(admin, 'prod/multi', `decoy-${i}`, [{ digest: amd.digest, size: amd.manifest.length }, { digest: index.digest, size: index.size }]);
    expect((await admin.request(`/v2/prod/multi/manifests/${amd.digest}`)).status).toBe(403);
    await cosignSign(admin, 'prod/multi', index.digest, key);
    expect((await admin.request(`/v2/prod/multi/manifests/${amd.digest}`)).status).toBe(200);
  });

  it('quarantines and releases on every request', async () => {
    const image = await admin.pushImage('prod/app', 'v1');
    await cosignSign(admin, 'prod/app', image.digest, key);
    expect((await admin.request('/v2/prod/app/manifests/v1')).status).toBe(200);
    expect((await adminApi(admin, 'POST', '/quarantine', { digest: image.digest, reason: 'review' })).status).toBe(201);
    expect((await admin.request('/v2/prod/app/manifests/v1')).status).toBe(403);
    expect((await adminApi(admin, 'DELETE', `/quarantine/${image.digest}`)).status).toBe(200);
    expect((await admin.request('/v2/prod/app/manifests/v1')).status).toBe(200);
  });
});

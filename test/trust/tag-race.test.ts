import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { adminApi, OCI_MANIFEST } from './support.js';

/** Regression: the tag rules were checked outside the store's transaction, so racing pushes both moved an immutable tag. */
describe.each(['sqlite', 'postgres'] as const)('racing pushes to an immutable tag (%s)', (engine) => {
  let registry: TestRegistry;
  let admin: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry({ engine });
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    expect((await adminApi(admin, 'PUT', '/trust/policy?namespace=rel', { immutableTags: ['v*'] })).status).toBe(200);
  });
  afterAll(() => registry.close());

  it('lets exactly one of eight simultaneous pushes set the tag, and the others are refused', async () => {
    const images = [];
    for (let i = 0; i < 8; i++) images.push(await admin.pushImage('rel/app', `candidate-${i}`));
    const answers = await Promise.all(
      images.map((image) => admin.request('/v2/rel/app/manifests/v1', { method: 'PUT', body: image.manifest, headers: { 'Content-Type': OCI_MANIFEST } })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 403, 403, 403, 403, 403, 403, 403]);
    const winner = images[answers.findIndex((a) => a.status === 201)]!;
    expect((await admin.request('/v2/rel/app/manifests/v1')).headers.get('docker-content-digest')).toBe(winner.digest);
    const history = (await (await adminApi(admin, 'GET', '/tags/history?repository=rel/app&tag=v1')).json()) as { history: unknown[] };
    expect(history.history).toHaveLength(1);
  });
});

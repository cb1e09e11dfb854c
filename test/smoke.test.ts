import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from './helpers/client.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';

describe('smoke', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  });
  afterAll(() => registry.close());

  it('pushes and pulls an image', async () => {
    const image = await client.pushImage('team/app', 'v1');
    const res = await client.request('/v2/team/app/manifests/v1');
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(image.digest);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(image.manifest);
  });
});

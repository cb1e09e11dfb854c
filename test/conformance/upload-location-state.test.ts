import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, sha256, withDigest } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

// A session that has received no bytes is stored only in its signed location (`_state`).
describe('upload sessions opened but not yet written', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  });
  afterAll(() => registry.close());

  it('survive a restart and can be completed', async () => {
    const started = await client.request('/v2/team/fresh/blobs/uploads/', { method: 'POST' });
    const location = started.headers.get('location')!;
    await registry.restart();

    const status = await client.request(location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-0');
    const bytes = randomBytes(2048);
    const put = await client.request(withDigest(location, sha256(bytes)), { method: 'PUT', body: bytes });
    expect(put.status).toBe(201);
  });

  it('cannot be used again once completed or cancelled', async () => {
    const bytes = randomBytes(100);
    const done = (await client.request('/v2/team/fresh/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    expect((await client.request(withDigest(done, sha256(bytes)), { method: 'PUT', body: bytes })).status).toBe(201);
    expect((await client.request(done)).status).toBe(404);
    expect((await client.request(withDigest(done, sha256(bytes)), { method: 'PUT', body: bytes })).status).toBe(404);

    const cancelled = (await client.request('/v2/team/fresh/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    expect((await client.request(cancelled, { method: 'DELETE' })).status).toBe(204);
    expect((await client.request(cancelled)).status).toBe(404);
    expect((await client.request(cancelled, { method: 'PATCH', body: bytes })).status).toBe(404);
  });

  it('are unknown without their state, or with state from another session', async () => {
    const a = (await client.request('/v2/team/fresh/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    const b = (await client.request('/v2/team/fresh/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    expect((await client.request(a.split('?')[0]!)).status).toBe(404);
    expect((await client.request(`${a.split('?')[0]!}?${b.split('?')[1]!}`)).status).toBe(404);
  });
});

// A blob GET once answered 200 with `Content-Length: 0` and no bytes: the handler sent a file
// stream from an async function without returning the reply, so Fastify finished it empty.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RegistryClient, sha256 } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

let registry: TestRegistry;
let client: RegistryClient;
beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
});
afterAll(() => registry.close());

it('streams every byte of a blob with the right Content-Length', async () => {
  const bytes = randomBytes(300_000);
  const digest = await client.pushBlob('team/app', bytes);
  const res = await client.request(`/v2/team/app/blobs/${digest}`);

  expect(res.status).toBe(200);
  expect(res.headers.get('content-length')).toBe(String(bytes.length));
  const body = Buffer.from(await res.arrayBuffer());
  expect(sha256(body)).toBe(digest);
});

// A path with a broken percent escape (`/v2/team/app/manifests/%E0%A4%A`) was answered by
// Fastify's own 400 body, outside the OCI error envelope and echoing the path back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(() => registry.close());

it('answers a malformed URL in the OCI envelope without echoing it', async () => {
  const res = await fetch(`${registry.url}/v2/team/app/manifests/%E0%A4%A`);
  const text = await res.text();

  expect(res.status).toBe(400);
  expect(JSON.parse(text)).toEqual({ errors: [{ code: 'BAD_REQUEST', message: 'malformed request' }] });
  expect(text).not.toContain('%E0');
});

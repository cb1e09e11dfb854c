import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  addUser,
  call,
  digestOf,
  expectError,
  scopeOf,
  stopRegistry,
  uploadBlob,
  withQuery,
} from './support/oci.js';

// end-11, cross-repository mount (PROTOCOLS.md §1.5).
let registry: TestRegistry;
let admin: RegistryClient;
let writer: RegistryClient;
const source = 'team/mount-source';
const secret = randomBytes(256);
let secretDigest: string;

beforeAll(async () => {
  registry = await startRegistry();
  admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  const walt = await addUser(registry, 'walt', [{ role: 'writer', namespace: 'other' }]);
  writer = new RegistryClient(registry.url, walt.name, walt.password);
  secretDigest = await uploadBlob(admin, source, secret);
});
afterAll(() => stopRegistry(registry));

function mount(
  client: RegistryClient,
  target: string,
  digest: string,
  from?: string,
  scopes: string[] = [],
) {
  const query = new URLSearchParams({ mount: digest, ...(from === undefined ? {} : { from }) });
  const scope = [
    scopeOf(target, 'pull,push'),
    ...(from === undefined ? [] : [scopeOf(from, 'pull')]),
    ...scopes,
  ];

  return client.request(`/v2/${target}/blobs/uploads/?${query}`, { method: 'POST', scope });
}

async function expectMounted(res: Response, target: string, digest: string): Promise<void> {
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get('location')).toBe(`/v2/${target}/blobs/${digest}`);
  expect(res.headers.get('docker-content-digest')).toBe(digest);
  await res.arrayBuffer();
}

/** A 202 that opened a working upload session: completing it stores the caller's bytes. */
async function expectSession(client: RegistryClient, res: Response, target: string): Promise<void> {
  expect(res.status, await res.clone().text()).toBe(202);
  const location = res.headers.get('location')!;
  expect(location).toMatch(new RegExp(`^/v2/${target}/blobs/uploads/`));
  await res.arrayBuffer();
  const bytes = randomBytes(32);
  const put = await client.request(withQuery(location, { digest: digestOf(bytes) }), {
    method: 'PUT',
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream' },
    scope: scopeOf(target, 'pull,push'),
  });
  expect(put.status).toBe(201);
  await put.arrayBuffer();
}

describe('POST /v2/:name/blobs/uploads/?mount=<digest>&from=<name>', () => {
  it('mounts a blob the caller may pull: 201, Location of the blob, Docker-Content-Digest', async () => {
    const target = 'team/mount-target';
    await expectError(
      await call(admin, target, `/v2/${target}/blobs/${secretDigest}`),
      404,
      'BLOB_UNKNOWN',
    );
    await expectMounted(await mount(admin, target, secretDigest, source), target, secretDigest);

    const res = await call(admin, target, `/v2/${target}/blobs/${secretDigest}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(secret);
  });

  it('falls back to an upload session (202 + Location) for a digest nobody holds', async () => {
    const target = 'team/mount-unknown';
    await expectSession(
      admin,
      await mount(admin, target, digestOf(randomBytes(8)), source),
      target,
    );
  });

  it('falls back to an upload session when `from` does not hold the blob', async () => {
    const target = 'team/mount-wrong-source';
    await uploadBlob(admin, 'team/mount-empty-source', randomBytes(4));
    await expectSession(
      admin,
      await mount(admin, target, secretDigest, 'team/mount-empty-source'),
      target,
    );
  });

  it('mounts without `from` when the caller can read the blob elsewhere (automatic discovery)', async () => {
    const target = 'team/mount-discovered';
    await expectMounted(
      await mount(admin, target, secretDigest, undefined, [scopeOf(source, 'pull')]),
      target,
      secretDigest,
    );
    const res = await call(admin, target, `/v2/${target}/blobs/${secretDigest}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(secret);
  });

  it('falls back to an upload session without `from` for a digest nobody holds', async () => {
    const target = 'team/mount-nothing';
    await expectSession(admin, await mount(admin, target, digestOf(randomBytes(8))), target);
  });

  it('answers 400 DIGEST_INVALID for a malformed mount digest', async () => {
    const target = 'team/mount-bad-digest';
    await expectError(
      await mount(admin, target, 'sha256:totallywrong', source),
      400,
      'DIGEST_INVALID',
    );
  });

  it('lets a writer mount between repositories of its own namespace', async () => {
    const bytes = randomBytes(100);
    const digest = await uploadBlob(writer, 'other/src', bytes);
    await expectMounted(await mount(writer, 'other/dst', digest, 'other/src'), 'other/dst', digest);
    const res = await call(writer, 'other/dst', `/v2/other/dst/blobs/${digest}`, {
      scope: scopeOf('other/dst', 'pull'),
    });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });

  it('never mounts from a repository the caller may not pull: 202 and a plain session', async () => {
    const target = 'other/stolen';
    await expectSession(writer, await mount(writer, target, secretDigest, source), target);
    const res = await call(writer, target, `/v2/${target}/blobs/${secretDigest}`, {
      scope: scopeOf(target, 'pull'),
    });
    await expectError(res, 404, 'BLOB_UNKNOWN');
  });

  it('never discovers a blob the caller may not pull when `from` is absent', async () => {
    const target = 'other/discovered';
    await expectSession(writer, await mount(writer, target, secretDigest), target);
    const res = await call(writer, target, `/v2/${target}/blobs/${secretDigest}`, {
      scope: scopeOf(target, 'pull'),
    });
    await expectError(res, 404, 'BLOB_UNKNOWN');
  });

  it('answers the same for a secret digest and for a digest that exists nowhere', async () => {
    const known = await mount(writer, 'other/oracle', secretDigest, source);
    const unknown = await mount(writer, 'other/oracle', digestOf(randomBytes(8)), source);
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.headers.get('docker-content-digest')).toBeNull();
    await known.arrayBuffer();
    await unknown.arrayBuffer();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, sha256 } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, type Account } from './support/accounts.js';
import { bearerChallenge, call, decodeJwt, errorCode, tokenFor } from './support/http.js';

const ALL = 'pull,push,delete';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

describe('token scopes at /v2/', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;
  let reader: Account;
  let writer: Account;
  let maintainer: Account;
  let image: Awaited<ReturnType<RegistryClient['pushImage']>>;
  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    image = await admin.pushImage('team/app', 'v1');
    await admin.pushImage('team/other', 'v1');
    reader = await addUser(registry, 'reader', [['team', 'reader']]);
    writer = await addUser(registry, 'writer', [['team', 'writer']]);
    maintainer = await addUser(registry, 'maintainer', [['team', 'maintainer']]);
  });
  afterAll(() => registry.close());

  const accessOf = (token: string) => decodeJwt(token).payload.access;

  it('refuses a token for one repository on another with insufficient_scope naming the other', async () => {
    const token = await tokenFor(registry, reader, ['repository:team/app:pull']);
    const res = await call(registry, '/v2/team/other/manifests/v1', { token });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge(registry, 'repository:team/other:pull', 'insufficient_scope'),
    );
    expect(await errorCode(res)).toBe('UNAUTHORIZED');
  });

  it('gives a reader who asks for pull,push,delete a token that carries only pull', async () => {
    const token = await tokenFor(registry, reader, [`repository:team/app:${ALL}`]);

    expect(accessOf(token)).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    expect((await call(registry, '/v2/team/app/manifests/v1', { token })).status).toBe(200);
  });

  it('refuses pushes by a reader with insufficient_scope', async () => {
    const token = await tokenFor(registry, reader, [`repository:team/app:${ALL}`]);
    const upload = await call(registry, '/v2/team/app/blobs/uploads/', { method: 'POST', token });
    const manifest = await call(registry, '/v2/team/app/manifests/v2', {
      method: 'PUT',
      token,
      headers: { 'Content-Type': MANIFEST_TYPE },
      body: image.manifest,
    });

    for (const res of [upload, manifest]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        bearerChallenge(registry, 'repository:team/app:pull,push', 'insufficient_scope'),
      );
    }
  });

  it('refuses DELETE by a reader and by a writer, and lets a maintainer delete', async () => {
    for (const who of [reader, writer]) {
      const token = await tokenFor(registry, who, [`repository:team/app:${ALL}`]);
      const res = await call(registry, `/v2/team/app/manifests/${image.digest}`, {
        method: 'DELETE',
        token,
      });

      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        bearerChallenge(registry, 'repository:team/app:delete', 'insufficient_scope'),
      );
    }

    const token = await tokenFor(registry, maintainer, [`repository:team/app:${ALL}`]);
    expect(accessOf(token)).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] },
    ]);
    const res = await call(registry, '/v2/team/app/manifests/v1', { method: 'DELETE', token });
    expect(res.status).toBe(202);
    expect((await call(registry, '/v2/team/app/manifests/v1', { token })).status).toBe(404);
  });

  it('lets a writer push but not delete a blob', async () => {
    const client = new RegistryClient(registry.url, writer.name, writer.password);
    const digest = await client.pushBlob('team/app', Buffer.from('writer layer'));
    const token = await tokenFor(registry, writer, [`repository:team/app:${ALL}`]);

    expect(
      (await call(registry, `/v2/team/app/blobs/${digest}`, { method: 'DELETE', token })).status,
    ).toBe(401);
    expect((await call(registry, `/v2/team/app/blobs/${digest}`, { token })).status).toBe(200);
  });

  it('grants the * action only to admins', async () => {
    const readerToken = await tokenFor(registry, reader, ['repository:team/app:*']);
    const adminToken = await tokenFor(
      registry,
      { name: 'admin', password: registry.adminPassword },
      ['repository:team/app:*'],
    );

    expect(accessOf(readerToken)).toEqual([]);
    expect(accessOf(adminToken)).toEqual([
      { type: 'repository', name: 'team/app', actions: ['*'] },
    ]);
    const blob = await admin.pushBlob('team/app', Buffer.from('to delete'));
    expect(
      (await call(registry, `/v2/team/app/blobs/${blob}`, { method: 'DELETE', token: adminToken }))
        .status,
    ).toBe(202);
  });

  it('grants registry:catalog:* but never other catalog actions', async () => {
    expect(accessOf(await tokenFor(registry, reader, ['registry:catalog:*']))).toEqual([
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(accessOf(await tokenFor(registry, reader, ['registry:catalog:push,pull']))).toEqual([]);
  });

  it('refuses a catalog-only token on a repository', async () => {
    const token = await tokenFor(registry, reader, ['registry:catalog:*']);
    const res = await call(registry, '/v2/team/app/tags/list', { token });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge(registry, 'repository:team/app:pull', 'insufficient_scope'),
    );
  });

  it('refuses a repository-only token on the catalog with insufficient_scope', async () => {
    // A token narrowed to one repository must not enumerate every repository its user can read.
    const token = await tokenFor(registry, reader, ['repository:team/app:pull']);
    const res = await call(registry, '/v2/_catalog', { token });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge(registry, 'registry:catalog:*', 'insufficient_scope'),
    );
  });

  it('accepts any valid token on GET /v2/', async () => {
    const token = await tokenFor(registry, reader, []);

    expect((await call(registry, '/v2/', { token })).status).toBe(200);
  });

  it('does not let a blob digest unknown to the repository be fetched', async () => {
    const token = await tokenFor(registry, reader, ['repository:team/app:pull']);
    const res = await call(registry, `/v2/team/app/blobs/${sha256('never pushed')}`, { token });

    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('BLOB_UNKNOWN');
  });
});

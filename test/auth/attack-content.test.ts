import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, sha256, uploadIdOf, withDigest } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, changePassword, createNamespaces, type Account } from './support/accounts.js';
import {
  bearerChallenge,
  call,
  errorCode,
  expectAlive,
  postToken,
  rawSocket,
  requestToken,
  tokenFor,
} from './support/http.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

type Image = Awaited<ReturnType<RegistryClient['pushImage']>>;

/**
 * An attacker with a valid low-privilege account (`mallory`: writer on `team`, reader on
 * `shared`) goes after content she cannot read: another user's upload sessions, blobs and
 * manifests in `secret`, and the server's limits. The server must keep answering throughout.
 */
describe('attacks on content', () => {
  let registry: TestRegistry;
  let mallory: Account;
  let victor: Account;
  let secret: Image;
  let shared: Image;
  beforeAll(async () => {
    registry = await startRegistry();
    const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    await createNamespaces(registry, ['secret']);
    secret = await admin.pushImage('secret/app', 'v1');
    shared = await admin.pushImage('shared/base', 'v1');
    await admin.pushImage('team/app', 'v1');
    mallory = await addUser(registry, 'mallory', [
      ['team', 'writer'],
      ['shared', 'reader'],
    ]);
    victor = await addUser(registry, 'victor', [['team', 'writer']]);
  });
  afterEach(async () => {
    await expectAlive(registry);
  });
  afterAll(() => registry.close());

  const pushToken = (who: Account, ...repositories: string[]) =>
    tokenFor(
      registry,
      who,
      repositories.map((r) => `repository:${r}:pull,push`),
    );

  describe("someone else's upload session", () => {
    it('is unknown to another writer of the same repository, whatever the method', async () => {
      const victorToken = await pushToken(victor, 'team/app');
      const started = await call(registry, '/v2/team/app/blobs/uploads/', {
        method: 'POST',
        token: victorToken,
      });
      const location = started.headers.get('location')!;
      const id = uploadIdOf(location);
      const malloryToken = await pushToken(mallory, 'team/app', 'team/other');

      const attempts = [
        await call(registry, location, { token: malloryToken }),
        await call(registry, location, {
          method: 'PATCH',
          token: malloryToken,
          headers: {
            'Content-Type': 'application/octet-stream',
            'Content-Range': '0-4',
            'Content-Length': '5',
          },
          body: 'evil!',
        }),
        await call(registry, withDigest(location, sha256('evil!')), {
          method: 'PUT',
          token: malloryToken,
          body: 'evil!',
        }),
        await call(registry, location, { method: 'DELETE', token: malloryToken }),
        await call(registry, `/v2/team/other/blobs/uploads/${id}`, { token: malloryToken }),
      ];
      for (const res of attempts) {
        expect(res.status).toBe(404);
        expect(await errorCode(res)).toBe('BLOB_UPLOAD_UNKNOWN');
      }

      const bytes = Buffer.from('victor wrote this');
      const done = await call(registry, withDigest(location, sha256(bytes)), {
        method: 'PUT',
        token: victorToken,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes,
      });
      expect(done.status).toBe(201);
    });

    it('cannot be reached through a repository the attacker cannot push to', async () => {
      const adminToken = await tokenFor(
        registry,
        { name: 'admin', password: registry.adminPassword },
        ['repository:secret/app:pull,push'],
      );
      const started = await call(registry, '/v2/secret/app/blobs/uploads/', {
        method: 'POST',
        token: adminToken,
      });
      const id = uploadIdOf(started.headers.get('location')!);
      const malloryToken = await pushToken(mallory, 'team/app', 'secret/app');

      const viaSecret = await call(registry, `/v2/secret/app/blobs/uploads/${id}`, {
        method: 'PATCH',
        token: malloryToken,
        body: 'x',
      });
      expect(viaSecret.status).toBe(401);
      expect(viaSecret.headers.get('www-authenticate')).toBe(
        bearerChallenge(registry, 'repository:secret/app:pull,push', 'insufficient_scope'),
      );
      const viaTeam = await call(registry, `/v2/team/app/blobs/uploads/${id}`, {
        method: 'PATCH',
        token: malloryToken,
        body: 'x',
      });
      expect(viaTeam.status).toBe(404);
    });
  });

  describe('cross-repository mount', () => {
    it('does not mount a blob from a repository the caller cannot read', async () => {
      const token = await pushToken(mallory, 'team/stolen', 'secret/app');
      const withFrom = await call(
        registry,
        `/v2/team/stolen/blobs/uploads/?mount=${secret.layerDigest}&from=secret/app`,
        {
          method: 'POST',
          token,
        },
      );
      const withoutFrom = await call(
        registry,
        `/v2/team/stolen/blobs/uploads/?mount=${secret.layerDigest}`,
        { method: 'POST', token },
      );
      const unknown = await call(
        registry,
        `/v2/team/stolen/blobs/uploads/?mount=${sha256('nothing')}&from=secret/app`,
        {
          method: 'POST',
          token,
        },
      );

      // A fresh session each time: the answer does not tell whether the blob exists.
      for (const res of [withFrom, withoutFrom, unknown]) {
        expect(res.status).toBe(202);
        expect(res.headers.get('location')).toMatch(
          /^\/v2\/team\/stolen\/blobs\/uploads\/[0-9a-f-]{36}\?_state=[\w-]+\.[\w-]+$/,
        );
      }
      expect(
        (await call(registry, `/v2/team/stolen/blobs/${secret.layerDigest}`, { token })).status,
      ).toBe(404);
    });

    it('mounts from a readable repository only when the token carries pull on it', async () => {
      const narrow = await pushToken(mallory, 'team/copy');
      const res = await call(
        registry,
        `/v2/team/copy/blobs/uploads/?mount=${shared.layerDigest}&from=shared/base`,
        {
          method: 'POST',
          token: narrow,
        },
      );
      // A token scoped to team/copy must not read shared/base, not even by mounting from it.
      expect(res.status).toBe(202);
      expect(
        (await call(registry, `/v2/team/copy/blobs/${shared.layerDigest}`, { token: narrow }))
          .status,
      ).toBe(404);

      const wide = await tokenFor(registry, mallory, [
        'repository:team/copy:pull,push',
        'repository:shared/base:pull',
      ]);
      const mounted = await call(
        registry,
        `/v2/team/copy/blobs/uploads/?mount=${shared.layerDigest}&from=shared/base`,
        {
          method: 'POST',
          token: wide,
        },
      );
      expect(mounted.status).toBe(201);
      expect(mounted.headers.get('location')).toBe(`/v2/team/copy/blobs/${shared.layerDigest}`);
    });

    it('cannot claim a blob by digest without sending its bytes', async () => {
      const token = await pushToken(mallory, 'team/claim');
      const single = await call(
        registry,
        `/v2/team/claim/blobs/uploads/?digest=${secret.layerDigest}`,
        {
          method: 'POST',
          token,
          headers: { 'Content-Type': 'application/octet-stream' },
          body: '',
        },
      );
      expect(single.status).toBe(400);
      expect(await errorCode(single)).toBe('DIGEST_INVALID');

      const started = await call(registry, '/v2/team/claim/blobs/uploads/', {
        method: 'POST',
        token,
      });
      const closed = await call(
        registry,
        withDigest(started.headers.get('location')!, secret.layerDigest),
        { method: 'PUT', token },
      );
      expect(closed.status).toBe(400);
      expect(
        (await call(registry, `/v2/team/claim/blobs/${secret.layerDigest}`, { token })).status,
      ).toBe(404);
    });
  });

  describe('manifests that point into another repository', () => {
    it('refuses an image manifest whose blobs live only in a repository the caller cannot read', async () => {
      const token = await pushToken(mallory, 'team/app');
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: secret.configDigest,
          size: secret.config.length,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            digest: secret.layerDigest,
            size: secret.layer.length,
          },
        ],
      });
      const res = await call(registry, '/v2/team/app/manifests/stolen', {
        method: 'PUT',
        token,
        headers: { 'Content-Type': OCI_MANIFEST },
        body: manifest,
      });

      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('MANIFEST_BLOB_UNKNOWN');
      expect(
        (await call(registry, `/v2/team/app/blobs/${secret.layerDigest}`, { token })).status,
      ).toBe(404);
    });

    it('refuses an index whose manifests live only in another repository', async () => {
      const token = await pushToken(mallory, 'team/app');
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: secret.digest, size: secret.manifest.length },
        ],
      });
      const res = await call(registry, '/v2/team/app/manifests/stolen-index', {
        method: 'PUT',
        token,
        headers: { 'Content-Type': OCI_INDEX },
        body: index,
      });

      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('MANIFEST_BLOB_UNKNOWN');
      expect(
        (await call(registry, `/v2/team/app/manifests/${secret.digest}`, { token })).status,
      ).toBe(404);
    });
  });

  describe('tags and referrers of a repository the caller cannot read', () => {
    it.each([['tags/list'], ['referrers/SUBJECT']])(
      'answers %s with insufficient_scope',
      async (resource) => {
        const token = await tokenFor(registry, mallory, ['repository:secret/app:pull']);
        const res = await call(
          registry,
          `/v2/secret/app/${resource.replace('SUBJECT', secret.digest)}`,
          { token },
        );

        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(
          bearerChallenge(registry, 'repository:secret/app:pull', 'insufficient_scope'),
        );
      },
    );
  });

  describe('enormous Content-Length', () => {
    /** Sends the head (and `body`, however short of the announced length) and waits 1.5 s. */
    const raw = (
      method: string,
      path: string,
      token: string | undefined,
      headers: string,
      body: string,
    ) => {
      const auth = token ? `Authorization: Bearer ${token}\r\n` : '';
      const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}${headers}\r\n`;

      return rawSocket(registry, `${head}${body}`, 1500);
    };

    it('refuses a manifest announced as 100 GB before reading it', async () => {
      const token = await pushToken(mallory, 'team/app');
      const answer = await raw(
        'PUT',
        '/v2/team/app/manifests/big',
        token,
        `Content-Type: ${OCI_MANIFEST}\r\nContent-Length: 100000000000\r\n`,
        '{',
      );

      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toContain('MANIFEST_TOO_LARGE');
    });

    it('refuses a token form announced as 1 TB before reading it', async () => {
      const answer = await raw(
        'POST',
        '/token',
        undefined,
        'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000000\r\n',
        'grant',
      );

      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    });

    it('refuses a Content-Length that is not a number of at most 15 digits', async () => {
      const token = await pushToken(mallory, 'team/app');
      const started = await call(registry, '/v2/team/app/blobs/uploads/', {
        method: 'POST',
        token,
      });
      const answer = await raw(
        'PATCH',
        started.headers.get('location')!,
        token,
        'Content-Length: 9999999999999999\r\n',
        'abc',
      );

      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    });

    it('survives a chunk announced as 100 TB whose sender hangs up, and the session stays usable', async () => {
      const token = await pushToken(mallory, 'team/app');
      const started = await call(registry, '/v2/team/app/blobs/uploads/', {
        method: 'POST',
        token,
      });
      const location = started.headers.get('location')!;
      await raw(
        'PATCH',
        location,
        token,
        'Content-Type: application/octet-stream\r\nContent-Length: 100000000000000\r\n',
        'a'.repeat(100),
      );

      const status = await call(registry, location, { token });
      expect(status.status).toBe(204);
      const bytes = randomBytes(64);
      const done = await call(registry, location, { method: 'DELETE', token });
      expect(done.status).toBe(204);
      const again = await new RegistryClient(registry.url, mallory.name, mallory.password).pushBlob(
        'team/app',
        bytes,
      );
      expect(again).toBe(sha256(bytes));
    });

    it('answers an anonymous upload announced as 100 TB with 401 without reading it', async () => {
      const answer = await raw(
        'POST',
        '/v2/team/app/blobs/uploads/',
        undefined,
        'Content-Length: 100000000000000\r\n',
        'x',
      );

      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    });
  });

  describe('credentials after a password change', () => {
    it('keeps an access token issued before passwd valid until it expires', async () => {
      const zed = await addUser(registry, 'zed', [['team', 'reader']]);
      const token = await tokenFor(registry, zed, ['repository:team/app:pull']);
      await changePassword(registry, zed);

      // Limitation: access tokens are not tied to a password; they live out their 300 s.
      expect((await call(registry, '/v2/team/app/tags/list', { token })).status).toBe(200);
      expect((await requestToken(registry, zed, [])).status).toBe(401);
    });

    it('refuses a refresh token issued before passwd', async () => {
      const yan = await addUser(registry, 'yan', [['team', 'reader']]);
      const login = await requestToken(registry, yan, [], {
        offline_token: 'true',
        client_id: 'docker',
        account: 'yan',
      });
      const { refresh_token: refresh } = (await login.json()) as { refresh_token: string };
      await changePassword(registry, yan);

      // `docker login` keeps only this refresh token; a password reset must log such clients out.
      const res = await postToken(registry, {
        grant_type: 'refresh_token',
        service: 'portcullis',
        client_id: 'docker',
        refresh_token: refresh,
      });
      expect(res.status).toBe(401);
    });
  });
});

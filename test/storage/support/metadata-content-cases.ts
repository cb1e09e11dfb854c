import { describe, expect, it } from 'vitest';
import type { MetadataHarness } from '../metadata-suite.js';
import {
  manifestRow,
  pages,
  randomDigest,
  REPOSITORY_NAMES,
  REPOSITORY_NAMES_IN_BYTE_ORDER,
  TAG_NAMES,
  TAG_NAMES_IN_BYTE_ORDER,
} from './fixtures.js';

/** ContentStore cases of the metadata conformance suite. */
export function contentCases(current: () => MetadataHarness): void {
  const content = () => current().store.content;

  /** Every tag_history row of one tag, oldest first, read through a second connection. */
  const history = async (repository: string, tag: string) => {
    const peer = await current().connectAgain();
    const rows = await peer.db
      .selectFrom('tag_history')
      .select(['digest', 'previous', 'actor', 'at'])
      .where('repository', '=', repository)
      .where('tag', '=', tag)
      .orderBy('at')
      .execute();

    return rows.map((r) => ({ digest: r.digest, previous: r.previous, actor: r.actor }));
  };

  describe('repositories and blob links', () => {
    it('linkBlob creates the repository, records the blob and links it', async () => {
      const digest = randomDigest();
      expect(await content().repositoryExists('team/app')).toBe(false);
      await content().linkBlob('team/app', digest, 1234);

      expect(await content().repositoryExists('team/app')).toBe(true);
      expect(await content().linkedBlobSize('team/app', digest)).toBe(1234);
      expect(await content().blobSize(digest)).toBe(1234);
    });

    it('a blob is reachable only through a repository that links it', async () => {
      const digest = randomDigest();
      await content().linkBlob('team/app', digest, 10);

      expect(await content().linkedBlobSize('team/other', digest)).toBeUndefined();
      expect(await content().linkedBlobSize('team/app', randomDigest())).toBeUndefined();
      expect(await content().blobSize(randomDigest())).toBeUndefined();
    });

    it('linkBlob is idempotent and one blob can be linked from many repositories', async () => {
      const digest = randomDigest();
      for (const repo of ['c/one', 'a/one', 'b/one', 'a/one'])
        await content().linkBlob(repo, digest, 5);

      expect(await content().repositoriesLinking(digest, 10)).toEqual(['a/one', 'b/one', 'c/one']);
      expect(await content().repositoriesLinking(digest, 2)).toEqual(['a/one', 'b/one']);
      expect(await content().repositoriesLinking(randomDigest(), 10)).toEqual([]);
    });

    it('sizes above 4 GiB survive the round trip as numbers', async () => {
      const digest = randomDigest();
      const size = 5 * 1024 ** 3 + 7;
      await content().linkBlob('big/one', digest, size);

      expect(await content().blobSize(digest)).toBe(size);
      expect(await content().linkedBlobSize('big/one', digest)).toBe(size);
    });

    it('unlinkBlob removes only that link and says whether one went', async () => {
      const digest = randomDigest();
      await content().linkBlob('a/one', digest, 5);
      await content().linkBlob('b/one', digest, 5);

      expect(await content().unlinkBlob('a/one', digest)).toBe(true);
      expect(await content().unlinkBlob('a/one', digest)).toBe(false);
      expect(await content().linkedBlobSize('a/one', digest)).toBeUndefined();
      expect(await content().linkedBlobSize('b/one', digest)).toBe(5);
      expect(await content().blobSize(digest)).toBe(5);
      expect(await content().repositoriesLinking(digest, 10)).toEqual(['b/one']);
    });

    it('missingBlobs names the digests the repository does not link, in the order given', async () => {
      const [a, b, c, d] = [randomDigest(), randomDigest(), randomDigest(), randomDigest()];
      await content().linkBlob('team/app', a, 1);
      await content().linkBlob('team/app', c, 1);
      await content().linkBlob('team/other', d, 1);

      expect(await content().missingBlobs('team/app', [d, a, b, c])).toEqual([d, b]);
      expect(await content().missingBlobs('team/app', [a, c])).toEqual([]);
      expect(await content().missingBlobs('team/app', [])).toEqual([]);
    });

    it('missingManifests names the digests that are not manifests of the repository', async () => {
      const m = manifestRow('team/app');
      await content().putManifest(m);
      const other = randomDigest();

      expect(await content().missingManifests('team/app', [other, m.digest])).toEqual([other]);
      expect(await content().missingManifests('team/else', [m.digest])).toEqual([m.digest]);
      expect(await content().missingManifests('team/app', [])).toEqual([]);
    });

    it('listRepositories pages through every repository in byte order', async () => {
      for (const name of REPOSITORY_NAMES) await content().linkBlob(name, randomDigest(), 1);

      const all = await content().listRepositories(undefined, 100);
      expect(all).toEqual(REPOSITORY_NAMES_IN_BYTE_ORDER);
      const paged = await pages((after, n) => content().listRepositories(after, n), 3);
      expect(paged.map((p) => p.length)).toEqual([3, 3, 3, 1]);
      expect(paged.flat()).toEqual(REPOSITORY_NAMES_IN_BYTE_ORDER);
      expect(await content().listRepositories('a.b', 2)).toEqual(['a/b', 'a__b']);
      expect(await content().listRepositories('zz', 10)).toEqual([]);
    });
  });

  describe('manifests and tags', () => {
    it('putManifest stores every field and the tag; manifest and manifestByTag return it', async () => {
      const subject = randomDigest();
      const m = manifestRow('team/app', {
        tag: 'v1',
        artifactType: 'application/vnd.example.sbom',
        subject,
        annotations: { 'org.opencontainers.image.title': 'sbom', note: 'ünïcode' },
        content: Buffer.from([0, 1, 2, 0xff, 0xfe, 0x7b]),
        size: 6,
      });
      await content().putManifest(m);

      const expected = {
        repository: 'team/app',
        digest: m.digest,
        mediaType: m.mediaType,
        artifactType: 'application/vnd.example.sbom',
        subject,
        annotations: { 'org.opencontainers.image.title': 'sbom', note: 'ünïcode' },
        size: 6,
        content: Buffer.from([0, 1, 2, 0xff, 0xfe, 0x7b]),
      };
      expect(await content().manifest('team/app', m.digest)).toEqual(expected);
      expect(await content().manifestByTag('team/app', 'v1')).toEqual(expected);
      expect(await content().manifest('team/other', m.digest)).toBeUndefined();
      expect(await content().manifestByTag('team/app', 'v2')).toBeUndefined();
      expect(await content().repositoryExists('team/app')).toBe(true);
    });

    it('putManifest without a tag stores an untagged manifest', async () => {
      const m = manifestRow('team/app');
      await content().putManifest(m);

      expect((await content().manifest('team/app', m.digest))?.digest).toBe(m.digest);
      expect(await content().listTags('team/app', undefined, 10)).toEqual([]);
    });

    it('putManifest is idempotent: a repeat push changes nothing and adds no history', async () => {
      const m = manifestRow('team/app', { tag: 'v1', children: [randomDigest()] });
      await content().putManifest(m);
      await content().putManifest(m);
      await content().putManifest({ ...m, tag: undefined });

      expect(await content().listTags('team/app', undefined, 10)).toEqual(['v1']);
      expect((await content().manifestByTag('team/app', 'v1'))?.digest).toBe(m.digest);
      expect(await history('team/app', 'v1')).toEqual([
        { digest: m.digest, previous: null, actor: 'user:test' },
      ]);
    });

    it('moving a tag points it at the new manifest and records the move in tag_history', async () => {
      const first = manifestRow('team/app', { tag: 'latest', actor: 'user:alice' });
      const second = manifestRow('team/app', { tag: 'latest', actor: 'user:bob' });
      await content().putManifest(first);
      await content().putManifest(second);

      expect((await content().manifestByTag('team/app', 'latest'))?.digest).toBe(second.digest);
      expect((await content().manifest('team/app', first.digest))?.digest).toBe(first.digest);
      expect(await history('team/app', 'latest')).toEqual([
        { digest: first.digest, previous: null, actor: 'user:alice' },
        { digest: second.digest, previous: first.digest, actor: 'user:bob' },
      ]);
    });

    it('deleteManifest removes the manifest and every tag on it, recording each removal', async () => {
      const m = manifestRow('team/app', { tag: 'v1' });
      const kept = manifestRow('team/app', { tag: 'keep' });
      await content().putManifest(m);
      await content().putManifest({ ...m, tag: 'v1.0' });
      await content().putManifest(kept);

      expect(await content().deleteManifest('team/app', m.digest, 'user:carol')).toBe(true);
      expect(await content().manifest('team/app', m.digest)).toBeUndefined();
      expect(await content().manifestByTag('team/app', 'v1')).toBeUndefined();
      expect(await content().listTags('team/app', undefined, 10)).toEqual(['keep']);
      expect(await content().missingManifests('team/app', [m.digest])).toEqual([m.digest]);
      expect(await history('team/app', 'v1')).toEqual([
        { digest: m.digest, previous: null, actor: 'user:test' },
        { digest: null, previous: m.digest, actor: 'user:carol' },
      ]);
      expect(await content().deleteManifest('team/app', m.digest, 'user:carol')).toBe(false);
    });

    it('deleteTag removes only the tag; the manifest stays', async () => {
      const m = manifestRow('team/app', { tag: 'v1' });
      await content().putManifest(m);

      expect(await content().deleteTag('team/app', 'v1', 'user:dave')).toBe(true);
      expect(await content().manifestByTag('team/app', 'v1')).toBeUndefined();
      expect((await content().manifest('team/app', m.digest))?.digest).toBe(m.digest);
      expect((await history('team/app', 'v1')).at(-1)).toEqual({
        digest: null,
        previous: m.digest,
        actor: 'user:dave',
      });
      expect(await content().deleteTag('team/app', 'v1', 'user:dave')).toBe(false);
      expect(await content().deleteTag('team/app', 'never', 'user:dave')).toBe(false);
    });

    it('listTags pages through one repository in byte order', async () => {
      const m = manifestRow('team/app');
      for (const tag of TAG_NAMES) await content().putManifest({ ...m, tag });
      await content().putManifest(manifestRow('team/other', { tag: 'elsewhere' }));

      expect(await content().listTags('team/app', undefined, 100)).toEqual(TAG_NAMES_IN_BYTE_ORDER);
      const paged = await pages((after, n) => content().listTags('team/app', after, n), 4);
      expect(paged.map((p) => p.length)).toEqual([4, 4, 3]);
      expect(paged.flat()).toEqual(TAG_NAMES_IN_BYTE_ORDER);
      expect(await content().listTags('team/app', 'Z', 2)).toEqual(['_x', 'a']);
      expect(await content().listTags('team/none', undefined, 10)).toEqual([]);
    });

    it('referrers lists the manifests whose subject is the digest, filtered by artifactType', async () => {
      const subject = manifestRow('team/app', { tag: 'v1' });
      await content().putManifest(subject);
      const sbom = manifestRow('team/app', {
        subject: subject.digest,
        artifactType: 'application/sbom',
      });
      const sig = manifestRow('team/app', {
        subject: subject.digest,
        artifactType: 'application/sig',
      });
      const elsewhere = manifestRow('team/other', {
        subject: subject.digest,
        artifactType: 'application/sig',
      });
      for (const m of [sbom, sig, elsewhere]) await content().putManifest(m);

      const all = await content().referrers('team/app', subject.digest);
      expect(all.map((r) => r.digest).sort()).toEqual([sbom.digest, sig.digest].sort());
      const only = await content().referrers('team/app', subject.digest, 'application/sig');
      expect(only).toHaveLength(1);
      expect(only[0]).toMatchObject({
        repository: 'team/app',
        digest: sig.digest,
        mediaType: sig.mediaType,
        artifactType: 'application/sig',
        subject: subject.digest,
        size: sig.size,
      });
      expect(await content().referrers('team/app', subject.digest, 'application/none')).toEqual([]);
      expect(await content().referrers('team/app', randomDigest())).toEqual([]);
    });
  });

  describe('upload sessions', () => {
    const newUpload = (id: string, algorithm: string | null = null) => ({
      id,
      repository: 'team/app',
      owner: 'user:alice',
      algorithm,
    });

    it('createUpload starts an empty session that upload() returns', async () => {
      const before = Date.now();
      await content().createUpload(newUpload('0b9f3a64-0000-4000-8000-000000000001', 'sha512'));

      const upload = await content().upload('0b9f3a64-0000-4000-8000-000000000001');
      expect(upload).toMatchObject({
        id: '0b9f3a64-0000-4000-8000-000000000001',
        repository: 'team/app',
        owner: 'user:alice',
        length: 0,
        algorithm: 'sha512',
      });
      expect(upload!.createdAt).toBeGreaterThanOrEqual(before);
      expect(upload!.updatedAt).toBe(upload!.createdAt);
      expect(await content().upload('0b9f3a64-0000-4000-8000-00000000dead')).toBeUndefined();
    });

    it('setUploadLength records the length and refreshes updatedAt, beyond 4 GiB too', async () => {
      const id = '0b9f3a64-0000-4000-8000-000000000002';
      await content().createUpload(newUpload(id));
      const created = (await content().upload(id))!;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await content().setUploadLength(id, 6 * 1024 ** 3 + 1);

      const after = (await content().upload(id))!;
      expect(after.length).toBe(6 * 1024 ** 3 + 1);
      expect(after.updatedAt).toBeGreaterThan(created.updatedAt);
      expect(after.createdAt).toBe(created.createdAt);
    });

    it('idleUploads returns the sessions not touched since a time; uploadIds returns all', async () => {
      const idle = '0b9f3a64-0000-4000-8000-000000000003';
      const busy = '0b9f3a64-0000-4000-8000-000000000004';
      await content().createUpload(newUpload(idle));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const cut = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await content().createUpload(newUpload(busy));

      expect(await content().idleUploads(cut)).toEqual([idle]);
      expect((await content().idleUploads(Date.now() + 1)).sort()).toEqual([idle, busy]);
      expect(await content().idleUploads(0)).toEqual([]);
      expect(await content().uploadIds()).toEqual(new Set([idle, busy]));
    });

    it('deleteUpload removes the session; deleting an absent one is not an error', async () => {
      const id = '0b9f3a64-0000-4000-8000-000000000005';
      await content().createUpload(newUpload(id));
      await content().deleteUpload(id);
      await content().deleteUpload(id);

      expect(await content().upload(id)).toBeUndefined();
      expect(await content().uploadIds()).toEqual(new Set());
    });

    it('a session id is unique', async () => {
      const id = '0b9f3a64-0000-4000-8000-000000000006';
      await content().createUpload(newUpload(id));

      await expect(content().createUpload(newUpload(id))).rejects.toThrow();
    });
  });
}

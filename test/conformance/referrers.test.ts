import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  call,
  digestOf,
  expectError,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  pushImage,
  pushReferrer,
  putManifest,
  stopRegistry,
  type Descriptor,
  type PushedImage,
} from './support/oci.js';

// end-12a/12b, the referrers API (PROTOCOLS.md §1.7).
let registry: TestRegistry;
let client: RegistryClient;
const repo = 'team/referrers';
let subject: PushedImage;
let subjectDescriptor: Descriptor;

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  subject = await pushImage(client, repo, 'v1');
  subjectDescriptor = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size };
});
afterAll(() => stopRegistry(registry));

async function fetchReferrers(digest: string, query = '', repository = repo) {
  const res = await call(client, repository, `/v2/${repository}/referrers/${digest}${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get('content-type')).toBe(OCI_INDEX);
  const index = (await res.json()) as {
    schemaVersion: number;
    mediaType: string;
    manifests: Descriptor[];
  };
  expect(index.schemaVersion).toBe(2);
  expect(index.mediaType).toBe(OCI_INDEX);

  return { res, manifests: index.manifests };
}

const compareDigests = (a: Descriptor, b: Descriptor) => a.digest.localeCompare(b.digest);

describe('GET /v2/:name/referrers/:digest', () => {
  it('lists artifacts whose subject is the digest, with artifactType and annotations copied', async () => {
    const target = await pushImage(client, repo, 'signed');
    const about = { mediaType: OCI_MANIFEST, digest: target.digest, size: target.size };
    const signature = await pushReferrer(client, repo, about, 'application/vnd.example.signature', {
      'org.example.signer': 'alice',
      'org.opencontainers.image.created': '2026-01-01T00:00:00Z',
    });
    const sbom = await pushReferrer(client, repo, about, 'application/vnd.example.sbom');

    const { manifests } = await fetchReferrers(target.digest);
    expect([...manifests].sort(compareDigests)).toEqual([signature, sbom].sort(compareDigests));
  });

  it('uses the config mediaType as artifactType for an image manifest without one', async () => {
    const target = await pushImage(client, repo, 'config-typed');
    const referrer = await pushImage(client, repo, 'config-typed-ref', {
      subject: { mediaType: OCI_MANIFEST, digest: target.digest, size: target.size },
      annotations: { 'org.example.kind': 'attached image' },
    });
    const { manifests } = await fetchReferrers(target.digest);
    expect(manifests).toEqual([
      {
        mediaType: OCI_MANIFEST,
        digest: referrer.digest,
        size: referrer.size,
        artifactType: OCI_CONFIG,
        annotations: { 'org.example.kind': 'attached image' },
      },
    ]);
  });

  it('lists an index that refers to the subject, with its artifactType', async () => {
    const target = await pushImage(client, repo, 'index-target');
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      artifactType: 'application/vnd.example.bundle',
      manifests: [{ mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size }],
      subject: { mediaType: OCI_MANIFEST, digest: target.digest, size: target.size },
    };
    const bytes = Buffer.from(JSON.stringify(doc));
    const res = await putManifest(client, repo, digestOf(bytes), bytes, OCI_INDEX);
    expect(res.status).toBe(201);
    expect(res.headers.get('oci-subject')).toBe(target.digest);
    const { manifests } = await fetchReferrers(target.digest);
    expect(manifests).toEqual([
      {
        mediaType: OCI_INDEX,
        digest: digestOf(bytes),
        size: bytes.length,
        artifactType: 'application/vnd.example.bundle',
      },
    ]);
  });

  it('filters by ?artifactType= and says so in OCI-Filters-Applied', async () => {
    const target = await pushImage(client, repo, 'filtered');
    const about = { mediaType: OCI_MANIFEST, digest: target.digest, size: target.size };
    const signature = await pushReferrer(client, repo, about, 'application/vnd.example.signature');
    await pushReferrer(client, repo, about, 'application/vnd.example.sbom');

    const query = `?artifactType=${encodeURIComponent('application/vnd.example.signature')}`;
    const { res, manifests } = await fetchReferrers(target.digest, query);
    expect(res.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(manifests).toEqual([signature]);

    const none = await fetchReferrers(
      target.digest,
      '?artifactType=application%2Fvnd.example.none',
    );
    expect(none.res.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(none.manifests).toEqual([]);
  });

  it('sends no OCI-Filters-Applied header without a filter', async () => {
    const { res } = await fetchReferrers(subject.digest);
    expect(res.headers.get('oci-filters-applied')).toBeNull();
  });

  it('answers 200 with an empty manifests array for a subject nobody refers to', async () => {
    const { manifests } = await fetchReferrers(digestOf(randomBytes(8)));
    expect(manifests).toEqual([]);
  });

  it('answers 200 with an empty list in a repository that does not exist', async () => {
    const { manifests } = await fetchReferrers(subject.digest, '', 'team/no-such-repository');
    expect(manifests).toEqual([]);
  });

  it('lists referrers pushed before their subject exists', async () => {
    const absent = { mediaType: OCI_MANIFEST, digest: digestOf(randomBytes(8)), size: 321 };
    const early = await pushReferrer(client, repo, absent, 'application/vnd.example.early');
    const { manifests } = await fetchReferrers(absent.digest);
    expect(manifests).toEqual([early]);
  });

  it('lists only referrers from the same repository', async () => {
    const other = 'team/referrers-other';
    const elsewhere = await pushImage(client, other, 'v1');
    await pushReferrer(client, other, subjectDescriptor, 'application/vnd.example.foreign');
    const { manifests } = await fetchReferrers(subject.digest);
    expect(manifests.map((m) => m.artifactType)).not.toContain('application/vnd.example.foreign');
    expect(elsewhere.digest).toBeTruthy();
  });

  it.each([
    ['garbage', 'sha256:totallywrong'],
    ['upper-case hex', `sha256:${'F'.repeat(64)}`],
    ['an unknown algorithm', `md5:${'a'.repeat(32)}`],
    ['a tag instead of a digest', 'v1'],
  ])('answers 400 for %s', async (_what, bad) => {
    await expectError(
      await call(client, repo, `/v2/${repo}/referrers/${bad}`),
      400,
      'DIGEST_INVALID',
    );
  });

  it('drops a referrer from the list once it is deleted', async () => {
    const target = await pushImage(client, repo, 'deleted-ref');
    const about = { mediaType: OCI_MANIFEST, digest: target.digest, size: target.size };
    const keep = await pushReferrer(client, repo, about, 'application/vnd.example.keep');
    const drop = await pushReferrer(client, repo, about, 'application/vnd.example.drop');
    expect((await fetchReferrers(target.digest)).manifests).toHaveLength(2);

    const res = await call(client, repo, `/v2/${repo}/manifests/${drop.digest}`, {
      method: 'DELETE',
    });
    expect(res.status).toBe(202);
    expect((await fetchReferrers(target.digest)).manifests).toEqual([keep]);
  });
});

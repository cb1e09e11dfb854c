import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  call,
  digestOf,
  DOCKER_MANIFEST,
  EMPTY_JSON_DIGEST,
  expectError,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  pushEmptyConfig,
  pushImage,
  putManifest,
  stopRegistry,
  uploadBlob,
  type PushedImage,
} from './support/oci.js';

// What end-7 refuses and what it must still accept (PROTOCOLS.md §1.6, §1.15, §1.16).
let registry: TestRegistry;
let client: RegistryClient;
const repo = 'team/validation';
let image: PushedImage;

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  image = await pushImage(client, repo, 'base');
});
afterAll(() => stopRegistry(registry));

const buildManifest = (changes: Record<string, unknown>) => ({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: image.config,
  layers: [image.layer],
  ...changes,
});

describe('PUT /v2/:name/manifests/:reference refuses', () => {
  it('a Content-Type that differs from the mediaType in the body (400 MANIFEST_INVALID)', async () => {
    await expectError(
      await putManifest(client, repo, 'mismatch', image.manifest, DOCKER_MANIFEST),
      400,
      'MANIFEST_INVALID',
    );
    await expectError(
      await putManifest(client, repo, 'mismatch', image.manifest, OCI_INDEX),
      400,
      'MANIFEST_INVALID',
    );
  });

  it.each(['application/json', 'text/plain', 'application/vnd.example.unknown+json'])(
    'an unknown manifest Content-Type %s (400)',
    async (contentType) => {
      await expectError(
        await putManifest(client, repo, 'odd-type', image.manifest, contentType),
        400,
        'MANIFEST_INVALID',
      );
    },
  );

  it('a body that is not JSON (400 MANIFEST_INVALID)', async () => {
    const res = await putManifest(
      client,
      repo,
      'garbage',
      Buffer.from('{"schemaVersion": 2,'),
      OCI_MANIFEST,
    );
    await expectError(res, 400, 'MANIFEST_INVALID');
  });

  it('an empty body (400 MANIFEST_INVALID)', async () => {
    await expectError(
      await putManifest(client, repo, 'empty', Buffer.alloc(0), OCI_MANIFEST),
      400,
      'MANIFEST_INVALID',
    );
  });

  it('a JSON document that is not a manifest (400 MANIFEST_INVALID)', async () => {
    await expectError(
      await putManifest(client, repo, 'array', Buffer.from('[]'), OCI_MANIFEST),
      400,
      'MANIFEST_INVALID',
    );
    const noConfig = { schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] };
    await expectError(
      await putManifest(client, repo, 'no-config', noConfig, OCI_MANIFEST),
      400,
      'MANIFEST_INVALID',
    );
    const badDigest = buildManifest({ layers: [{ ...image.layer, digest: 'sha256:nothex' }] });
    await expectError(
      await putManifest(client, repo, 'bad-digest', badDigest, OCI_MANIFEST),
      400,
      'MANIFEST_INVALID',
    );
  });

  it('a layer the repository does not hold (400 MANIFEST_BLOB_UNKNOWN naming the digest)', async () => {
    const missing = digestOf(randomBytes(32));
    const doc = buildManifest({
      layers: [image.layer, { mediaType: OCI_LAYER, digest: missing, size: 32 }],
    });
    const error = await expectError(
      await putManifest(client, repo, 'missing-layer', doc, OCI_MANIFEST),
      400,
      'MANIFEST_BLOB_UNKNOWN',
    );
    expect(JSON.stringify(error.detail)).toContain(missing);
    expect(JSON.stringify(error.detail)).not.toContain(image.layer.digest);
  });

  it('a config the repository does not hold (400 MANIFEST_BLOB_UNKNOWN)', async () => {
    const missing = digestOf(randomBytes(32));
    const doc = buildManifest({ config: { ...image.config, digest: missing } });
    const error = await expectError(
      await putManifest(client, repo, 'missing-config', doc, OCI_MANIFEST),
      400,
      'MANIFEST_BLOB_UNKNOWN',
    );
    expect(JSON.stringify(error.detail)).toContain(missing);
  });

  it('a layer held only by another repository (400 MANIFEST_BLOB_UNKNOWN)', async () => {
    const bytes = randomBytes(40);
    const elsewhere = await uploadBlob(client, 'team/validation-elsewhere', bytes);
    const doc = buildManifest({ layers: [{ mediaType: OCI_LAYER, digest: elsewhere, size: 40 }] });
    const error = await expectError(
      await putManifest(client, repo, 'foreign-layer', doc, OCI_MANIFEST),
      400,
      'MANIFEST_BLOB_UNKNOWN',
    );
    expect(JSON.stringify(error.detail)).toContain(elsewhere);
  });

  it('a layer deleted from the repository (400 MANIFEST_BLOB_UNKNOWN)', async () => {
    const bytes = randomBytes(24);
    const layer = { mediaType: OCI_LAYER, digest: await uploadBlob(client, repo, bytes), size: 24 };
    expect(
      (await call(client, repo, `/v2/${repo}/blobs/${layer.digest}`, { method: 'DELETE' })).status,
    ).toBe(202);
    const doc = buildManifest({ layers: [layer] });
    await expectError(
      await putManifest(client, repo, 'deleted-layer', doc, OCI_MANIFEST),
      400,
      'MANIFEST_BLOB_UNKNOWN',
    );
  });

  it('a subject that is not a descriptor with a valid digest (400 MANIFEST_INVALID)', async () => {
    const doc = buildManifest({
      subject: { mediaType: OCI_MANIFEST, digest: 'sha256:nothex', size: 1 },
    });
    await expectError(
      await putManifest(client, repo, 'bad-subject', doc, OCI_MANIFEST),
      400,
      'MANIFEST_INVALID',
    );
  });

  it('an index entry that is not a manifest of the repository (400 MANIFEST_BLOB_UNKNOWN)', async () => {
    const missing = digestOf(randomBytes(32));
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size },
        { mediaType: OCI_MANIFEST, digest: missing, size: 500 },
      ],
    };
    const error = await expectError(
      await putManifest(client, repo, 'broken-index', doc, OCI_INDEX),
      400,
      'MANIFEST_BLOB_UNKNOWN',
    );
    expect(JSON.stringify(error.detail)).toContain(missing);
  });

  it('the empty config descriptor without an artifactType (400 MANIFEST_INVALID)', async () => {
    const config = await pushEmptyConfig(client, repo);
    const doc = buildManifest({ config });
    await expectError(
      await putManifest(client, repo, 'empty-untyped', doc, OCI_MANIFEST),
      400,
      'MANIFEST_INVALID',
    );
  });

  it('a manifest larger than 4 MiB (413)', async () => {
    const padding = 'x'.repeat(4 * 1024 * 1024);
    const doc = buildManifest({ annotations: { padding } });
    const res = await putManifest(client, repo, 'huge', doc, OCI_MANIFEST);
    expect(res.status).toBe(413);
    await expectError(res, 413, 'MANIFEST_TOO_LARGE');
    await expectError(
      await call(client, repo, `/v2/${repo}/manifests/huge`),
      404,
      'MANIFEST_UNKNOWN',
    );
  });

  it('a failed push leaves the tag where it was', async () => {
    const doc = buildManifest({
      layers: [{ mediaType: OCI_LAYER, digest: digestOf(randomBytes(4)), size: 4 }],
    });
    expect((await putManifest(client, repo, 'base', doc, OCI_MANIFEST)).status).toBe(400);
    const res = await call(client, repo, `/v2/${repo}/manifests/base`);
    expect(res.headers.get('docker-content-digest')).toBe(image.digest);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(image.manifest);
  });
});

describe('PUT /v2/:name/manifests/:reference accepts', () => {
  it('a manifest of 4,000,000 bytes (clients and registries should handle 4 MB)', async () => {
    const base = Buffer.from(JSON.stringify(buildManifest({ annotations: { padding: '' } })));
    const doc = buildManifest({ annotations: { padding: 'y'.repeat(4_000_000 - base.length) } });
    const bytes = Buffer.from(JSON.stringify(doc));
    expect(bytes.length).toBe(4_000_000);
    const res = await putManifest(client, repo, 'big', bytes, OCI_MANIFEST);
    expect(res.status, await res.clone().text()).toBe(201);
    const back = await call(client, repo, `/v2/${repo}/manifests/big`);
    expect(Buffer.from(await back.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('a non-distributable layer with urls that was never pushed', async () => {
    const foreign = {
      mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
      digest: digestOf(randomBytes(64)),
      size: 64,
      urls: ['https://example.com/layer.tar.gz'],
    };
    const doc = buildManifest({ layers: [foreign, image.layer] });
    const res = await putManifest(client, repo, 'nondistributable', doc, OCI_MANIFEST);
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it('unknown config, layer and artifact media types as opaque', async () => {
    const bytes = randomBytes(20);
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.thing.v1',
      config: {
        mediaType: 'application/vnd.example.config.v1+json',
        digest: await uploadBlob(client, repo, bytes),
        size: 20,
      },
      layers: [
        {
          mediaType: 'application/vnd.example.layer.v1',
          digest: await uploadBlob(client, repo, randomBytes(5)),
          size: 5,
          annotations: { 'x.y': 'z' },
        },
      ],
    };
    const res = await putManifest(client, repo, 'opaque', doc, OCI_MANIFEST);
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it('an index entry with an unknown mediaType', async () => {
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: 'application/vnd.example.future.manifest.v9+json',
          digest: image.digest,
          size: image.size,
        },
      ],
    };
    const res = await putManifest(client, repo, 'future-index', doc, OCI_INDEX);
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it('a subject, answering with OCI-Subject', async () => {
    const config = await pushEmptyConfig(client, repo);
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      config,
      layers: [{ mediaType: OCI_EMPTY, digest: EMPTY_JSON_DIGEST, size: 2 }],
      subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size },
    };
    const res = await putManifest(
      client,
      repo,
      digestOf(Buffer.from(JSON.stringify(doc))),
      doc,
      OCI_MANIFEST,
    );
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get('oci-subject')).toBe(image.digest);
  });

  it('a subject that does not exist', async () => {
    const config = await pushEmptyConfig(client, repo);
    const absent = digestOf(randomBytes(16));
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      config,
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: absent, size: 1234 },
    };
    const res = await putManifest(client, repo, 'orphan', doc, OCI_MANIFEST);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get('oci-subject')).toBe(absent);
  });

  it('an index with a subject, answering with OCI-Subject', async () => {
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: image.digest, size: image.size }],
      subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size },
    };
    const res = await putManifest(client, repo, 'index-subject', doc, OCI_INDEX);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get('oci-subject')).toBe(image.digest);
  });

  it('no OCI-Subject header for a manifest without subject', async () => {
    const res = await putManifest(client, repo, 'plain', image.manifest, OCI_MANIFEST);
    expect(res.status).toBe(201);
    expect(res.headers.get('oci-subject')).toBeNull();
  });
});

describe('PUT /v2/:name/manifests/:reference with an invalid tag', () => {
  it.each([
    ['a leading dash', '-v1'],
    ['a leading dot', '.v1'],
    ['an exclamation mark', 'v1%21'],
    ['a percent-encoded slash', 'v1%2Fbeta'],
    ['129 characters', 'a'.repeat(129)],
    ['broken percent-encoding', 'v1%zz'],
  ])('answers 400 for %s', async (_what, tag) => {
    // The spec names no code for a malformed tag; any catalogue code in the envelope will do.
    const res = await putManifest(client, repo, tag, image.manifest, OCI_MANIFEST);
    await expectError(res, 400, ['MANIFEST_INVALID', 'TAG_INVALID', 'BAD_REQUEST']);
  });

  it('accepts a tag of exactly 128 characters from the whole tag alphabet', async () => {
    const tag = `A_z.0-${'x'.repeat(122)}`;
    expect(tag.length).toBe(128);
    const res = await putManifest(client, repo, tag, image.manifest, OCI_MANIFEST);
    expect(res.status).toBe(201);
    expect((await call(client, repo, `/v2/${repo}/manifests/${tag}`)).status).toBe(200);
  });
});

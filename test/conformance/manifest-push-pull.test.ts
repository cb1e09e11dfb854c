import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  call,
  digestOf,
  DOCKER_CONFIG,
  DOCKER_LAYER,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  expectError,
  OCI_INDEX,
  OCI_MANIFEST,
  pushEmptyConfig,
  pushImage,
  putManifest,
  stopRegistry,
  uploadBlob,
  type PushedImage,
} from './support/oci.js';

// end-3 and end-7 for every manifest kind Portcullis accepts (PROTOCOLS.md §1.6, §1.14, §1.16).
let registry: TestRegistry;
let client: RegistryClient;
const repo = 'team/manifests';
let image: PushedImage;

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  image = await pushImage(client, repo, 'v1');
});
afterAll(() => stopRegistry(registry));

const getManifest = (
  reference: string,
  headers: Record<string, string> = {},
  method = 'GET',
  repository = repo,
) => call(client, repository, `/v2/${repository}/manifests/${reference}`, { method, headers });

async function expectStored(
  reference: string,
  bytes: Buffer,
  mediaType: string,
  repository = repo,
): Promise<void> {
  const res = await getManifest(reference, {}, 'GET', repository);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(mediaType);
  expect(res.headers.get('content-length')).toBe(String(bytes.length));
  expect(res.headers.get('docker-content-digest')).toBe(digestOf(bytes));
  expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
}

async function expectCreated(res: Response, digest: string, repository = repo): Promise<void> {
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get('location')).toBe(`/v2/${repository}/manifests/${digest}`);
  expect(res.headers.get('docker-content-digest')).toBe(digest);
  await res.arrayBuffer();
}

describe('PUT /v2/:name/manifests/:reference', () => {
  it('stores an OCI image manifest by tag: 201, Location by digest, Docker-Content-Digest', async () => {
    const other = await pushImage(client, repo, 'scratch');
    await expectCreated(
      await putManifest(client, repo, 'v2', other.manifest, OCI_MANIFEST),
      other.digest,
    );
    await expectStored('v2', other.manifest, OCI_MANIFEST);
  });

  it('stores a manifest pushed by its digest', async () => {
    const bytes = Buffer.from(`${image.manifest.toString()} `);
    const digest = digestOf(bytes);
    await expectCreated(await putManifest(client, repo, digest, bytes, OCI_MANIFEST), digest);
    await expectStored(digest, bytes, OCI_MANIFEST);
  });

  it('stores a manifest pushed by a sha512 digest under that digest', async () => {
    const bytes = Buffer.from(`${image.manifest.toString()}\n`);
    const digest = digestOf(bytes, 'sha512');
    await expectCreated(await putManifest(client, repo, digest, bytes, OCI_MANIFEST), digest);
    const res = await getManifest(digest);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });

  it('answers 400 DIGEST_INVALID when the body does not hash to the digest in the path', async () => {
    const wrong = digestOf(randomBytes(16));
    await expectError(
      await putManifest(client, repo, wrong, image.manifest, OCI_MANIFEST),
      400,
      'DIGEST_INVALID',
    );
    await expectError(await getManifest(wrong), 404, 'MANIFEST_UNKNOWN');
  });

  it('keeps the exact bytes, including unknown fields, odd spacing and key order', async () => {
    const text = `{
      "layers": [ ${JSON.stringify(image.layer)} ],
      "x-custom": { "nested": [1, 2, 3], "unicode": "\u00e9\u4e2d" },
      "schemaVersion": 2,
      "config": ${JSON.stringify({ ...image.config, 'x-extra': true })},
      "mediaType": "${OCI_MANIFEST}"
    }\n`;
    const bytes = Buffer.from(text);
    await expectCreated(
      await putManifest(client, repo, 'custom-fields', bytes, OCI_MANIFEST),
      digestOf(bytes),
    );
    await expectStored('custom-fields', bytes, OCI_MANIFEST);
  });

  it('accepts descriptors carrying a data field', async () => {
    const doc = JSON.parse(image.manifest.toString()) as Record<string, unknown>;
    const config = image.config;
    const configBytes = await (
      await call(client, repo, `/v2/${repo}/blobs/${config.digest}`)
    ).arrayBuffer();
    doc.config = { ...config, data: Buffer.from(configBytes).toString('base64') };
    const bytes = Buffer.from(JSON.stringify(doc));
    await expectCreated(
      await putManifest(client, repo, 'with-data', bytes, OCI_MANIFEST),
      digestOf(bytes),
    );
  });

  it('accepts an image with no layers', async () => {
    const doc = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: image.config, layers: [] };
    const bytes = Buffer.from(JSON.stringify(doc));
    await expectCreated(
      await putManifest(client, repo, 'no-layers', bytes, OCI_MANIFEST),
      digestOf(bytes),
    );
    await expectStored('no-layers', bytes, OCI_MANIFEST);
  });

  it('stores an OCI manifest without a mediaType field under the Content-Type it was pushed with', async () => {
    const bytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, config: image.config, layers: [image.layer] }),
    );
    await expectCreated(
      await putManifest(client, repo, 'no-media-type', bytes, OCI_MANIFEST),
      digestOf(bytes),
    );
    await expectStored('no-media-type', bytes, OCI_MANIFEST);
  });

  it('ignores parameters on the Content-Type and never sends them back', async () => {
    const bytes = Buffer.from(`${image.manifest.toString()}  `);
    const res = await putManifest(
      client,
      repo,
      'with-params',
      bytes,
      `${OCI_MANIFEST}; charset=utf-8`,
    );
    await expectCreated(res, digestOf(bytes));
    await expectStored('with-params', bytes, OCI_MANIFEST);
  });

  it('stores an OCI image index whose entries were pushed before it', async () => {
    const amd = await pushImage(client, repo, 'index-amd64');
    const arm = await pushImage(client, repo, 'index-arm64');
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: amd.digest,
          size: amd.size,
          platform: { architecture: 'amd64', os: 'linux' },
        },
        {
          mediaType: OCI_MANIFEST,
          digest: arm.digest,
          size: arm.size,
          platform: { architecture: 'arm64', os: 'linux' },
        },
      ],
      annotations: { 'org.opencontainers.image.ref.name': 'multi' },
    };
    const bytes = Buffer.from(JSON.stringify(doc));
    await expectCreated(
      await putManifest(client, repo, 'multi', bytes, OCI_INDEX),
      digestOf(bytes),
    );
    await expectStored('multi', bytes, OCI_INDEX);
  });

  it('stores an index that has an artifactType', async () => {
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      artifactType: 'application/vnd.example.bundle',
      manifests: [{ mediaType: OCI_MANIFEST, digest: image.digest, size: image.size }],
    };
    const bytes = Buffer.from(JSON.stringify(doc));
    await expectCreated(
      await putManifest(client, repo, 'bundle', bytes, OCI_INDEX),
      digestOf(bytes),
    );
    await expectStored('bundle', bytes, OCI_INDEX);
  });

  it('stores a Docker schema 2 manifest and a manifest list over it', async () => {
    const layerBytes = randomBytes(300);
    const configBytes = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );
    const manifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: {
        mediaType: DOCKER_CONFIG,
        digest: await uploadBlob(client, repo, configBytes),
        size: configBytes.length,
      },
      layers: [
        {
          mediaType: DOCKER_LAYER,
          digest: await uploadBlob(client, repo, layerBytes),
          size: layerBytes.length,
        },
      ],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 3));
    await expectCreated(
      await putManifest(client, repo, 'docker', manifestBytes, DOCKER_MANIFEST),
      digestOf(manifestBytes),
    );
    await expectStored('docker', manifestBytes, DOCKER_MANIFEST);

    const list = {
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          digest: digestOf(manifestBytes),
          size: manifestBytes.length,
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    };
    const listBytes = Buffer.from(JSON.stringify(list, null, 3));
    await expectCreated(
      await putManifest(client, repo, 'docker-list', listBytes, DOCKER_LIST),
      digestOf(listBytes),
    );
    await expectStored('docker-list', listBytes, DOCKER_LIST);
  });

  it('stores an artifact: artifactType with the empty config descriptor', async () => {
    const config = await pushEmptyConfig(client, repo);
    const payload = randomBytes(50);
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.sbom.v1+json',
      config,
      layers: [
        {
          mediaType: 'application/vnd.example.sbom.v1+json',
          digest: await uploadBlob(client, repo, payload),
          size: 50,
        },
      ],
    };
    const bytes = Buffer.from(JSON.stringify(doc));
    await expectCreated(
      await putManifest(client, repo, 'sbom', bytes, OCI_MANIFEST),
      digestOf(bytes),
    );
    await expectStored('sbom', bytes, OCI_MANIFEST);
  });

  it('moves a tag to the manifest pushed last, leaving the old one reachable by digest', async () => {
    const first = await pushImage(client, repo, 'moving');
    const second = await pushImage(client, repo, 'moving');
    await expectStored('moving', second.manifest, OCI_MANIFEST);
    await expectStored(first.digest, first.manifest, OCI_MANIFEST);
  });

  it('accepts the same manifest again and under a second tag', async () => {
    await expectCreated(
      await putManifest(client, repo, 'v1', image.manifest, OCI_MANIFEST),
      image.digest,
    );
    await expectCreated(
      await putManifest(client, repo, 'also-v1', image.manifest, OCI_MANIFEST),
      image.digest,
    );
    await expectStored('also-v1', image.manifest, OCI_MANIFEST);
  });
});

describe('GET /v2/:name/manifests/:reference', () => {
  it('returns the exact bytes by tag and by digest with the stored Content-Type', async () => {
    await expectStored('v1', image.manifest, OCI_MANIFEST);
    await expectStored(image.digest, image.manifest, OCI_MANIFEST);
  });

  it('answers 404 MANIFEST_UNKNOWN when Accept lists only types other than the stored one', async () => {
    const res = await getManifest('v1', { Accept: DOCKER_MANIFEST });
    await expectError(res, 404, 'MANIFEST_UNKNOWN');
  });

  it.each([
    ['*/*', '*/*'],
    ['the stored type among others', `${DOCKER_MANIFEST}, ${OCI_INDEX}, ${OCI_MANIFEST}`],
    ['the stored type with a q parameter', `${OCI_MANIFEST};q=0.9, ${DOCKER_MANIFEST};q=1`],
  ])('serves the manifest when Accept admits it (%s)', async (_what, accept) => {
    const res = await getManifest('v1', { Accept: accept });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(OCI_MANIFEST);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(image.manifest);
  });

  it('answers 404 MANIFEST_UNKNOWN for an unknown tag and an unknown digest', async () => {
    await expectError(await getManifest('no-such-tag'), 404, 'MANIFEST_UNKNOWN');
    await expectError(await getManifest(digestOf(randomBytes(8))), 404, 'MANIFEST_UNKNOWN');
  });

  it('answers 404 NAME_UNKNOWN for a repository that does not exist', async () => {
    await expectError(await getManifest('v1', {}, 'GET', 'team/never-pushed'), 404, 'NAME_UNKNOWN');
  });

  it('answers 400 with an OCI spec code for a malformed digest', async () => {
    await expectError(await getManifest('sha256:totallywrong'), 400, 'DIGEST_INVALID');
  });
});

describe('HEAD /v2/:name/manifests/:reference', () => {
  it('answers the same headers as GET and no body', async () => {
    const head = await getManifest('v1', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(OCI_MANIFEST);
    expect(head.headers.get('content-length')).toBe(String(image.size));
    expect(head.headers.get('docker-content-digest')).toBe(image.digest);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 404 without a body for an unknown tag', async () => {
    const res = await getManifest('no-such-tag', {}, 'HEAD');
    expect(res.status).toBe(404);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../errors/registry-error.js';
import { parseManifest } from './manifest-parse.js';

const d = (c: string, mediaType = 'application/octet-stream', extra = {}) => ({
  mediaType,
  digest: `sha256:${c.repeat(64)}`,
  size: 1,
  ...extra,
});
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));
const image = (extra = {}) => ({ schemaVersion: 2, mediaType: OCI, config: d('a', 'application/vnd.oci.image.config.v1+json'), layers: [d('b')], ...extra });

function refusal(contentType: string, body: Buffer): string {
  try {
    parseManifest(contentType, body);
  } catch (err) {
    if (isRegistryError(err, 'MANIFEST_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected MANIFEST_INVALID');
}

describe('parseManifest', () => {
  it('lists the blobs an image needs and uses the config type as artifact type', () => {
    const parsed = parseManifest(OCI, buf(image()));
    expect(parsed.blobs).toEqual([`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`]);
    expect(parsed.artifactType).toBe('application/vnd.oci.image.config.v1+json');
    expect(parsed.subject).toBeNull();
  });

  it('does not require non-distributable layers or layers with urls', () => {
    const parsed = parseManifest(
      OCI,
      buf(image({ layers: [d('b', 'application/vnd.oci.image.layer.nondistributable.v1.tar'), d('c', 'x', { urls: ['https://e'] })] })),
    );
    expect(parsed.blobs).toEqual([`sha256:${'a'.repeat(64)}`]);
  });

  it('lists the manifests an index needs, and takes subject and artifactType', () => {
    const parsed = parseManifest(INDEX, buf({ schemaVersion: 2, manifests: [d('c', OCI)], subject: d('e', OCI), artifactType: 'x/y' }));
    expect(parsed.manifests).toEqual([`sha256:${'c'.repeat(64)}`]);
    expect(parsed.subject).toBe(`sha256:${'e'.repeat(64)}`);
    expect(parsed.artifactType).toBe('x/y');
  });

  it('uses the body mediaType when no Content-Type came', () => {
    expect(parseManifest('', buf(image())).mediaType).toBe(OCI);
  });

  it.each([
    ['not JSON', OCI, Buffer.from('{'), /not valid JSON/],
    ['an array', OCI, buf([]), /JSON object/],
    ['schemaVersion 1', OCI, buf(image({ schemaVersion: 1 })), /schemaVersion/],
    ['an unknown type', 'text/plain', buf({ schemaVersion: 2 }), /unsupported manifest media type/],
    ['a type mismatch', INDEX, buf(image()), /does not match/],
    ['no layers', OCI, buf(image({ layers: undefined })), /layers array/],
    ['a bad digest', OCI, buf(image({ layers: [d('B')] })), /layers\[0\]\.digest/],
    ['a negative size', OCI, buf(image({ config: { ...d('a'), size: -1 } })), /config\.size/],
    ['non-string annotations', OCI, buf(image({ annotations: { a: 1 } })), /annotations/],
    ['an empty config without artifactType', OCI, buf(image({ config: d('a', 'application/vnd.oci.empty.v1+json') })), /artifactType is required/],
  ])('refuses %s', (_label, type, body, message) => {
    expect(refusal(type, body)).toMatch(message);
  });
});

import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { RegistryClient, sha256 } from '../helpers/client.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY_CONFIG = Buffer.from('{}');

export interface SigningKey {
  privateKey: KeyObject;
  publicPem: string;
}

export function p256(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** The simple-signing payload cosign signs for a manifest digest (PROTOCOLS.md §3.1). */
export function simpleSigningPayload(repository: string, digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': `registry.test/${repository}` }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
      optional: null,
    }),
  );
}

/**
 * Signs `digest` the way cosign 2 stores a key-based signature: a manifest at tag
 * `sha256-<hex>.sig` whose one layer is the payload, with the DER ECDSA signature in an annotation.
 */
export async function cosignSign(client: RegistryClient, repository: string, digest: string, key: SigningKey, payload = simpleSigningPayload(repository, digest)) {
  const signature = sign('sha256', payload, key.privateKey).toString('base64');
  const tag = `${digest.replace(':', '-')}.sig`;
  const layer = { bytes: payload, mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', annotations: { 'dev.cosignproject.cosign/signature': signature } };
  const pushed = await pushManifest(client, repository, tag, { bytes: EMPTY_CONFIG, mediaType: 'application/vnd.oci.image.config.v1+json' }, [layer]);
  if (pushed.res.status !== 201) throw new Error(`pushing the signature gave ${pushed.res.status}: ${await pushed.res.text()}`);

  return { tag, digest: pushed.digest };
}

/** Pushes an index over the given manifests under `tag`. */
export async function pushIndex(client: RegistryClient, repository: string, tag: string, children: { digest: string; size: number }[]) {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c, i) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.size, platform: { architecture: i === 0 ? 'amd64' : 'arm64', os: 'linux' } })),
    }),
  );
  const res = await client.request(`/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: index, headers: { 'Content-Type': OCI_INDEX } });
  if (res.status !== 201) throw new Error(`pushing the index gave ${res.status}: ${await res.text()}`);

  return { digest: sha256(index), size: index.length };
}

/** An admin API call with an admin token. */
export async function adminApi(client: RegistryClient, method: string, path: string, body?: unknown): Promise<Response> {
  return client.request(`/admin/v1${path}`, {
    method,
    scope: 'registry:admin:*',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The error message of a registry error response. */
export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { errors: { code: string; message: string }[] };

  return body.errors[0]!;
}

/**
 * Signs `target` the way cosign 3 does by default with `--key`: an in-toto statement with
 * cosign's signing predicate in a DSSE envelope, inside a Sigstore bundle, pushed as an OCI 1.1
 * referrer (artifactType the bundle type, empty config, the bundle as the one layer).
 */
export async function bundleReferrer(client: RegistryClient, repository: string, target: { digest: string; size: number }, key: SigningKey, predicateType = 'https://sigstore.dev/cosign/sign/v1') {
  const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: repository, digest: { sha256: target.digest.slice(7) } }], predicateType, predicate: {} };
  const payload = Buffer.from(JSON.stringify(statement));
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const bundle = Buffer.from(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'release' }, tlogEntries: [] },
      dsseEnvelope: { payload: payload.toString('base64'), payloadType: type, signatures: [{ sig: sign('sha256', pae, key.privateKey).toString('base64'), keyid: '' }] },
    }),
  );
  const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const { res, digest } = await pushManifest(
    client,
    repository,
    (d) => d,
    { bytes: EMPTY_CONFIG, mediaType: 'application/vnd.oci.empty.v1+json' },
    [{ bytes: bundle, mediaType: bundleType }],
    {
      artifactType: bundleType,
      subject: { mediaType: OCI_MANIFEST, digest: target.digest, size: target.size },
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': predicateType },
    },
  );
  if (res.status !== 201) throw new Error(`pushing the bundle referrer gave ${res.status}: ${await res.text()}`);

  return { digest };
}

/** A blob to push and how the manifest describes it. */
export interface Part {
  bytes: Buffer;
  mediaType: string;
  annotations?: Record<string, string>;
}

/**
 * Pushes the config and layer blobs, then an image manifest over them (plus `extra` fields such
 * as `subject` or `artifactType`) at `reference`; answers the PUT's response and what was pushed.
 */
export async function pushManifest(client: RegistryClient, repository: string, reference: string | ((digest: string) => string), config: Part, layers: Part[], extra: Record<string, unknown> = {}) {
  const describe = async (part: Part) => ({ mediaType: part.mediaType, digest: await client.pushBlob(repository, part.bytes), size: part.bytes.length, ...(part.annotations ? { annotations: part.annotations } : {}) });
  const configDescriptor = await describe(config);
  const layerDescriptors = [];
  for (const layer of layers) layerDescriptors.push(await describe(layer));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: layerDescriptors, ...extra }));
  const digest = sha256(manifest);
  const at = typeof reference === 'string' ? reference : reference(digest);
  const res = await client.request(`/v2/${repository}/manifests/${at}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': OCI_MANIFEST } });

  return { res, manifest, digest, config: configDescriptor.digest, layers: layerDescriptors.map((d) => d.digest) };
}

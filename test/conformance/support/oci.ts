import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { ERROR_CATALOGUE } from '../../../src/errors/codes.js';
import { hashPassword } from '../../../src/identity/passwords.js';
import { userPrincipal } from '../../../src/identity/directory.js';
import { openMetadataStore } from '../../../src/storage/metadata/index.js';
import type { RegistryClient, RequestOptions } from '../../helpers/client.js';
import type { TestRegistry } from '../../helpers/registry.js';

// Media types and well-known digests, written out from the OCI image spec (PROTOCOLS.md §1.14).
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** The digest of zero bytes. */
export const EMPTY_BLOB_DIGEST =
  'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** The empty descriptor's content `{}` and its digest. */
export const EMPTY_JSON = Buffer.from('{}');
export const EMPTY_JSON_DIGEST =
  'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

export type Algorithm = 'sha256' | 'sha512';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  [extra: string]: unknown;
}

export function digestOf(bytes: Buffer | string, algorithm: Algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Full access to one repository. The harness's `scopeFor` guesses the name from the first
 * `/blobs/`-like component, which is wrong for names such as `team/blobs/manifests`.
 */
export function scopeOf(repository: string, actions = 'pull,push,delete'): string {
  return `repository:${repository}:${actions}`;
}

/** A request about `repository`, with a token scoped to it explicitly. */
export function call(
  client: RegistryClient,
  repository: string,
  path: string,
  options: RequestOptions = {},
): Promise<Response> {
  return client.request(path, { scope: scopeOf(repository), ...options });
}

/** Appends query parameters to a `Location`, keeping any it already has. */
export function withQuery(location: string, params: Record<string, string>): string {
  const separator = location.includes('?') ? '&' : '?';

  return `${location}${separator}${new URLSearchParams(params).toString()}`;
}

/**
 * Checks an OCI error answer: status, JSON envelope, every code from the catalogue, and the
 * first code equal to `code` (or one of `code` when several answers are reasonable).
 */
export async function expectError(
  res: Response,
  status: number,
  code: string | string[],
): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status });
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const body = JSON.parse(text) as { errors: Array<Record<string, unknown>> };
  expect(Array.isArray(body.errors)).toBe(true);
  expect(body.errors.length).toBeGreaterThan(0);
  for (const entry of body.errors) {
    expect(Object.keys(ERROR_CATALOGUE)).toContain(entry.code);
    expect(entry.code).toMatch(/^[A-Z_]+$/);
    expect(typeof entry.message).toBe('string');
  }
  expect([code].flat()).toContain(body.errors[0]!.code);

  return body.errors[0]!;
}

/** Opens an upload session and returns its `Location`. */
export async function startUpload(
  client: RegistryClient,
  repository: string,
  query = '',
): Promise<string> {
  const res = await call(client, repository, `/v2/${repository}/blobs/uploads/${query}`, {
    method: 'POST',
  });
  expect(res.status).toBe(202);
  const location = res.headers.get('location');
  expect(location).toBeTruthy();

  return location!;
}

/** Uploads a blob monolithically (POST, then PUT with the body) and returns its digest. */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  bytes: Buffer,
  algorithm: Algorithm = 'sha256',
): Promise<string> {
  const digest = digestOf(bytes, algorithm);
  const location = await startUpload(client, repository);
  const res = await call(client, repository, withQuery(location, { digest }), {
    method: 'PUT',
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  expect(res.status, await res.clone().text()).toBe(201);

  return digest;
}

/** PUTs a manifest (object or exact bytes) with a Content-Type. */
export function putManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  manifest: object | Buffer,
  contentType: string,
): Promise<Response> {
  const body = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest));

  return call(client, repository, `/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    body,
    headers: { 'Content-Type': contentType },
  });
}

export interface PushedImage {
  manifest: Buffer;
  digest: string;
  size: number;
  config: Descriptor;
  layer: Descriptor;
}

/** Pushes a one-layer OCI image (fresh random content) and returns its parts. */
export async function pushImage(
  client: RegistryClient,
  repository: string,
  reference: string,
  extra: Record<string, unknown> = {},
): Promise<PushedImage> {
  const layerBytes = randomBytes(512);
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      salt: randomBytes(6).toString('hex'),
    }),
  );
  const layer = {
    mediaType: OCI_LAYER,
    digest: await uploadBlob(client, repository, layerBytes),
    size: layerBytes.length,
  };
  const config = {
    mediaType: OCI_CONFIG,
    digest: await uploadBlob(client, repository, configBytes),
    size: configBytes.length,
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: [layer],
      ...extra,
    }),
  );
  const res = await putManifest(client, repository, reference, manifest, OCI_MANIFEST);
  expect(res.status, await res.clone().text()).toBe(201);

  return { manifest, digest: digestOf(manifest), size: manifest.length, config, layer };
}

/** Ensures the empty descriptor's blob `{}` is in the repository and returns its descriptor. */
export async function pushEmptyConfig(
  client: RegistryClient,
  repository: string,
): Promise<Descriptor> {
  await uploadBlob(client, repository, EMPTY_JSON);

  return { mediaType: OCI_EMPTY, digest: EMPTY_JSON_DIGEST, size: 2 };
}

/**
 * Pushes an artifact manifest (empty config) whose `subject` is `subject`, by digest, and
 * returns its descriptor as the referrers API should list it.
 */
export async function pushReferrer(
  client: RegistryClient,
  repository: string,
  subject: Descriptor,
  artifactType: string,
  annotations?: Record<string, string>,
): Promise<Descriptor> {
  const config = await pushEmptyConfig(client, repository);
  const blobBytes = randomBytes(64);
  const blob = {
    mediaType: 'application/octet-stream',
    digest: await uploadBlob(client, repository, blobBytes),
    size: 64,
  };
  const doc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config,
    layers: [blob],
    subject,
  };
  if (annotations) doc.annotations = annotations;
  const bytes = Buffer.from(JSON.stringify(doc));
  const digest = digestOf(bytes);
  const res = await putManifest(client, repository, digest, bytes, OCI_MANIFEST);
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get('oci-subject')).toBe(subject.digest);

  return {
    mediaType: OCI_MANIFEST,
    digest,
    size: bytes.length,
    artifactType,
    ...(annotations ? { annotations } : {}),
  };
}

/**
 * Creates a user with role bindings directly in the server's metadata store (a second
 * connection, as the CLI would open), and returns a client signed in as that user.
 */
export async function addUser(
  registry: TestRegistry,
  name: string,
  grants: Array<{ role: string; namespace: string }>,
): Promise<{ name: string; password: string }> {
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const store = await openMetadataStore(registry.config.database, registry.dataDir);
  try {
    const user = await store.principals.createUser(name, await hashPassword(password));
    for (const { role, namespace } of grants) {
      if (namespace !== '*') await store.principals.createNamespace(namespace, null);
      await store.principals.grant(userPrincipal(user.id), namespace, role);
    }
  } finally {
    await store.close();
  }

  return { name, password };
}

/**
 * Stops the server. A keep-alive connection whose last response finishes just after closing
 * began is not idle when the server looks, and would hold the close open for the keep-alive
 * timeout (65 s); such connections are dropped as soon as they go idle.
 */
export async function stopRegistry(registry: TestRegistry): Promise<void> {
  const server = registry.running.app.server;
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  try {
    await registry.close();
  } finally {
    clearInterval(sweep);
  }
}

/** Restarts the server on the same data, with the same care as `stopRegistry`. */
export async function restartRegistry(registry: TestRegistry): Promise<void> {
  const server = registry.running.app.server;
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  try {
    await registry.restart();
  } finally {
    clearInterval(sweep);
  }
}

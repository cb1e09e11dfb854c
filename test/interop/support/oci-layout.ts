import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** The parts of an image manifest (OCI or Docker schema 2) these tests look at. */
export interface ManifestJson {
  schemaVersion: number;
  mediaType?: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
}

/** An image as stored on disk, with its digests worked out from the bytes. */
export interface StoredImage {
  manifestBytes: Buffer;
  manifestDigest: string;
  manifest: ManifestJson;
  configDigest: string;
  layerDigests: string[];
  /** rootfs.diff_ids as written in the config. */
  diffIds: string[];
}

interface IndexJson {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function hashFile(path: string, gunzip: boolean): Promise<string> {
  const hash = createHash('sha256');
  const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) hash.update(chunk);
  };
  if (gunzip) {
    await pipeline(createReadStream(path), createGunzip(), sink);
  } else {
    await pipeline(createReadStream(path), sink);
  }

  return `sha256:${hash.digest('hex')}`;
}

/** sha256 of the uncompressed layer (its diff ID); plain tar layers are hashed as they are. */
export function layerDiffId(path: string, mediaType: string): Promise<string> {
  return hashFile(path, mediaType.endsWith('gzip'));
}

function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');

  return join(layoutDir, 'blobs', algorithm ?? 'sha256', hex ?? '');
}

async function describeImage(
  manifestBytes: Buffer,
  readBlob: (digest: string) => Promise<Buffer>,
): Promise<StoredImage> {
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ManifestJson;
  const config = JSON.parse((await readBlob(manifest.config.digest)).toString('utf8')) as {
    rootfs: { diff_ids: string[] };
  };

  return {
    manifestBytes,
    manifestDigest: sha256Digest(manifestBytes),
    manifest,
    configDigest: manifest.config.digest,
    layerDigests: manifest.layers.map((layer) => layer.digest),
    diffIds: config.rootfs.diff_ids,
  };
}

/** Reads the image tagged `tag` (its org.opencontainers.image.ref.name) from an OCI layout. */
export async function readLayoutImage(layoutDir: string, tag: string): Promise<StoredImage> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as IndexJson;
  const entry = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag,
  );
  if (entry === undefined) {
    throw new Error(`no image tagged ${tag} in ${layoutDir}/index.json`);
  }

  const readBlob = (digest: string): Promise<Buffer> => readFile(blobPath(layoutDir, digest));

  return describeImage(await readBlob(entry.digest), readBlob);
}

/** Reads an image written by skopeo's dir: transport (manifest.json plus blobs named by hex). */
export async function readDirImage(dir: string): Promise<StoredImage> {
  const readBlob = (digest: string): Promise<Buffer> =>
    readFile(join(dir, digest.replace(/^sha256:/, '')));

  return describeImage(await readFile(join(dir, 'manifest.json')), readBlob);
}

/**
 * Re-hashes every blob the manifest names (config and layers) and the layers' uncompressed
 * content; returns a list of problems, empty when all is intact.
 */
export async function findBlobProblems(
  image: StoredImage,
  pathOf: (digest: string) => string,
): Promise<string[]> {
  const problems: string[] = [];
  const blobs = [image.manifest.config, ...image.manifest.layers];
  for (const blob of blobs) {
    const actual = await hashFile(pathOf(blob.digest), false).catch((err: Error) => err.message);
    if (actual !== blob.digest) problems.push(`blob ${blob.digest} hashes to ${actual}`);
  }

  for (const [i, layer] of image.manifest.layers.entries()) {
    const diffId = await layerDiffId(pathOf(layer.digest), layer.mediaType);
    if (diffId !== image.diffIds[i]) {
      problems.push(`layer ${i} uncompresses to ${diffId}, config says ${image.diffIds[i]}`);
    }
  }

  return problems;
}

/** findBlobProblems for an OCI layout directory. */
export function findLayoutProblems(layoutDir: string, image: StoredImage): Promise<string[]> {
  return findBlobProblems(image, (digest) => blobPath(layoutDir, digest));
}

/** findBlobProblems for a dir: transport directory. */
export function findDirProblems(dir: string, image: StoredImage): Promise<string[]> {
  return findBlobProblems(image, (digest) => join(dir, digest.replace(/^sha256:/, '')));
}

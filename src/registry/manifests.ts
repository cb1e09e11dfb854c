import { RegistryError } from '../errors/registry-error.js';
import { digestOf, parseDigest, tryParseDigest } from '../oci/digest.js';
import { isTag } from '../oci/names.js';
import type { ContentStore, ManifestRecord } from '../storage/metadata/content.js';
import { parseManifest } from './manifest-parse.js';

/** Manifests may be at most 4 MiB (the size every client and registry must handle). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface PutResult {
  digest: string;
  subject: string | null;
}

/** A tag or a digest, told apart by the colon that only digests contain. */
export type Reference = { tag: string } | { digest: string };

export function parseReference(value: string): Reference {
  if (value.includes(':')) return { digest: parseDigest(value).digest };
  if (!isTag(value)) throw new RegistryError('MANIFEST_INVALID', 'reference is neither a valid tag nor a digest');

  return { tag: value };
}

/** Pushing, fetching and deleting manifests and tags. */
export class ManifestService {
  constructor(private readonly content: ContentStore) {}

  /** `tagExpected`: where the tag must still point for the move to happen (see NewManifest). */
  async put(repository: string, reference: Reference, contentType: string, body: Buffer, actor: string, tagExpected?: string | null): Promise<PutResult> {
    if (body.byteLength > MAX_MANIFEST_BYTES) throw new RegistryError('MANIFEST_TOO_LARGE');
    const parsed = parseManifest(contentType, body);
    const algorithm = 'digest' in reference ? tryParseDigest(reference.digest)!.algorithm : 'sha256';
    const digest = digestOf(body, algorithm);
    if ('digest' in reference && reference.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match the reference', {
        detail: { expected: reference.digest, actual: digest },
      });
    }
    const missing = [
      ...(await this.content.missingBlobs(repository, parsed.blobs)),
      ...(await this.content.missingManifests(repository, parsed.manifests.filter((d) => d !== digest))),
    ];
    if (missing.length > 0) {
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references ${missing.length} unknown blob(s) or manifest(s)`, {
        detail: { digests: [...new Set(missing)] },
      });
    }
    await this.content.putManifest({
      repository,
      digest,
      mediaType: parsed.mediaType,
      artifactType: parsed.artifactType,
      subject: parsed.subject,
      annotations: parsed.annotations,
      size: body.byteLength,
      content: body,
      children: [...parsed.blobs, ...parsed.manifests],
      tag: 'tag' in reference ? reference.tag : undefined,
      tagExpected,
      actor,
    });

    return { digest, subject: parsed.subject };
  }

  /** The manifest, or `MANIFEST_UNKNOWN` (`NAME_UNKNOWN` when the repository does not exist). */
  async get(repository: string, reference: Reference): Promise<ManifestRecord> {
    const found =
      'tag' in reference
        ? await this.content.manifestByTag(repository, reference.tag)
        : await this.content.manifest(repository, reference.digest);
    if (found) return found;
    if (!(await this.content.repositoryExists(repository))) throw new RegistryError('NAME_UNKNOWN');

    throw new RegistryError('MANIFEST_UNKNOWN', undefined, { detail: reference });
  }

  /** Deletes a tag, or a manifest with every tag pointing at it. */
  async delete(repository: string, reference: Reference, actor: string): Promise<void> {
    const deleted =
      'tag' in reference
        ? await this.content.deleteTag(repository, reference.tag, actor)
        : await this.content.deleteManifest(repository, reference.digest, actor);
    if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { detail: reference });
  }
}

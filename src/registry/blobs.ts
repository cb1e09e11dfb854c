import type { Readable } from 'node:stream';
import { RegistryError } from '../errors/registry-error.js';
import type { BlobDriver, ByteRange } from '../storage/blobs/driver.js';
import type { ContentStore } from '../storage/metadata/content.js';

/** Blobs as repositories see them: a blob is reachable only through a repository linking it. */
export class BlobService {
  constructor(
    private readonly content: ContentStore,
    private readonly driver: BlobDriver,
  ) {}

  /** The blob's size; `BLOB_UNKNOWN` unless `repository` links it. */
  async size(repository: string, digest: string): Promise<number> {
    const size = await this.content.linkedBlobSize(repository, digest);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest } });

    return size;
  }

  async open(digest: string, range?: ByteRange): Promise<Readable> {
    try {
      return await this.driver.read(digest, range);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new RegistryError('BLOB_UNKNOWN', 'blob content is missing from storage', { cause: err });
      }
      throw err;
    }
  }

  /** Unlinks the blob from the repository; the bytes stay for other repositories. */
  async unlink(repository: string, digest: string): Promise<void> {
    if (!(await this.content.unlinkBlob(repository, digest))) {
      throw new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
    }
  }

  /**
   * Links `digest` into `repository` from the first of `sources` that holds it. The caller
   * passes only repositories it may pull from. Returns the size, or undefined when no source
   * holds the blob (the caller then opens a normal upload session).
   */
  async mount(repository: string, digest: string, sources: readonly string[]): Promise<number | undefined> {
    for (const source of sources) {
      const size = await this.content.linkedBlobSize(source, digest);
      if (size === undefined || (await this.driver.stat(digest)) === undefined) continue;
      await this.content.linkBlob(repository, digest, size);

      return size;
    }

    return undefined;
  }

  /** Repositories linking `digest`, as candidate mount sources. */
  async holders(digest: string, limit: number): Promise<string[]> {
    return this.content.repositoriesLinking(digest, limit);
  }
}

import type { Readable } from 'node:stream';

/** An inclusive byte range within a blob. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where blob bytes live. The driver is byte-oriented and knows nothing of repositories or
 * access: it keeps finished blobs under their digest and in-progress uploads under an id.
 * Hashing and verification happen above it, in `registry/`.
 */
export interface BlobDriver {
  /** Size of a finished blob, or undefined when the driver does not hold it. */
  stat(digest: string): Promise<number | undefined>;

  /**
   * Streams a finished blob, or the inclusive `range` of it. Rejects with an error whose `code`
   * is `ENOENT` when the driver does not hold the blob (the registry answers BLOB_UNKNOWN).
   */
  read(digest: string, range?: ByteRange): Promise<Readable>;

  /** Removes a finished blob; removing an absent blob is not an error. */
  remove(digest: string): Promise<void>;

  /**
   * Writes `source` into upload `id` starting at `offset`, discarding anything stored past
   * `offset` first (the remains of an interrupted write). Resolves with the new length once
   * the bytes are durable.
   */
  append(id: string, offset: number, source: AsyncIterable<Uint8Array>): Promise<number>;

  /**
   * Streams the first `length` bytes of upload `id` (used to re-hash after a restart). The
   * stream fails with an error whose `code` is `ENOENT` when the upload is not held.
   */
  readUpload(id: string, length: number): Readable;

  /**
   * Makes upload `id` the finished blob `digest`, atomically and durably: readers see the
   * whole blob or nothing. When the blob already exists the upload is simply dropped.
   */
  commit(id: string, digest: string): Promise<void>;

  /** Drops upload `id`; dropping an absent upload is not an error. */
  abort(id: string): Promise<void>;

  /** Ids of uploads held, for sweeping abandoned ones. */
  listUploads(): Promise<string[]>;

  /** Throws when the store cannot be written (used by readiness checks). */
  check(): Promise<void>;
}

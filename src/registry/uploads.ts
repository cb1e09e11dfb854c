import { randomUUID, type Hash } from 'node:crypto';
import { RegistryError } from '../errors/registry-error.js';
import { createDigester, parseDigest, type DigestAlgorithm } from '../oci/digest.js';
import type { BlobDriver } from '../storage/blobs/driver.js';
import type { ContentStore, UploadRecord } from '../storage/metadata/content.js';
import type { UploadStateSigner } from './upload-state.js';

/** Where a chunk claims to sit in the upload (`Content-Range: start-end`, inclusive). */
export interface ChunkRange {
  start: number;
  end: number;
}

export interface Chunk {
  body: AsyncIterable<Uint8Array>;
  range?: ChunkRange;
  /** The declared `Content-Length`, when there was one. */
  length?: number;
}

interface RunningHash {
  algorithm: DigestAlgorithm;
  hash: Hash;
  length: number;
}

/** An upload session as the HTTP layer sees it: the record plus its signed location state. */
export interface Session extends UploadRecord {
  state: string;
}

/** Names a session: its id and the `_state` from its location. */
export interface SessionRef {
  id: string;
  state: string | undefined;
}

/**
 * Blob upload sessions: chunks are appended in order, hashed as they stream, and the blob is
 * committed only once its digest is verified. A session that has received no bytes lives only
 * in its signed location; from the first byte on it lives in the metadata store and the blob
 * driver, so it survives a restart either way. The running hash lives in memory and is rebuilt
 * from the stored bytes when it is missing. Finished and cancelled sessions leave a tombstone
 * until they expire, so their locations cannot be used again.
 */
export class UploadService {
  private readonly hashes = new Map<string, RunningHash>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly content: ContentStore,
    private readonly driver: BlobDriver,
    private readonly expireAfterMs: number,
    private readonly signer: UploadStateSigner,
  ) {}

  /** Opens a session; nothing is stored until bytes arrive. */
  start(repository: string, owner: string, algorithm: DigestAlgorithm | null): Session {
    const now = Date.now();
    const record = { id: randomUUID(), repository, owner, length: 0, algorithm, createdAt: now, updatedAt: now };

    return this.session(record);
  }

  /** The session, if it exists, belongs to this repository and caller, and has not expired. */
  async get(repository: string, ref: SessionRef, owner: string): Promise<Session> {
    const { id } = ref;
    const stored = /^[0-9a-f-]{36}$/.test(id) ? await this.content.upload(id) : undefined;
    const upload = stored ?? this.fromState(ref);
    if (!upload || upload.length < 0 || upload.repository !== repository || upload.owner !== owner) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    }
    if (upload.updatedAt < Date.now() - this.expireAfterMs) {
      if (stored) await this.drop(id);
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'upload session expired');
    }

    return this.session(upload);
  }

  /** Appends one chunk (PATCH). Chunks must arrive in order; anything else is a 416. */
  async append(repository: string, ref: SessionRef, owner: string, chunk: Chunk): Promise<Session> {
    return this.exclusive(ref.id, async () => {
      const upload = await this.get(repository, ref, owner);
      const length = await this.write(upload, chunk);

      return this.session({ ...upload, length });
    });
  }

  /** Closes the session (PUT): appends an optional last chunk, verifies, commits and links. */
  async complete(repository: string, ref: SessionRef, owner: string, digest: string, chunk?: Chunk): Promise<number> {
    const expected = parseDigest(digest);
    const { id } = ref;

    return this.exclusive(id, async () => {
      const upload = await this.get(repository, ref, owner);
      // The last chunk's length is not recorded on its own: the commit below settles it.
      const length = chunk ? await this.write(upload, chunk, false) : upload.length;
      // A session that never received a byte has no upload file yet; the empty blob needs one.
      if (length === 0) await this.driver.append(id, 0, noBytes());
      const actual = await this.digestOf(upload, length, expected.algorithm);
      if (actual !== expected.digest) {
        await this.bury(upload);
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          detail: { digest: expected.digest },
        });
      }
      await this.driver.commit(id, expected.digest);
      await this.content.finishUpload(upload, expected.digest, length);
      this.hashes.delete(id);

      return length;
    });
  }

  /**
   * A whole blob in one request (POST ?digest=). The client never learns the session's id, so
   * the session does not outlive a failed request: its bytes would only hold space.
   */
  async monolithic(repository: string, owner: string, digest: string, chunk: Chunk): Promise<number> {
    const upload = this.start(repository, owner, parseDigest(digest).algorithm);
    try {
      return await this.complete(repository, upload, owner, digest, chunk);
    } catch (err) {
      await this.exclusive(upload.id, () => this.drop(upload.id)).catch(() => undefined);
      throw err;
    }
  }

  async cancel(repository: string, ref: SessionRef, owner: string): Promise<void> {
    await this.exclusive(ref.id, async () => this.bury(await this.get(repository, ref, owner)));
  }

  /** Removes sessions idle for longer than the expiry, and stray upload files. */
  async sweep(): Promise<number> {
    const idle = await this.content.idleUploads(Date.now() - this.expireAfterMs);
    for (const id of idle) await this.drop(id);
    const live = await this.content.uploadIds();
    for (const file of await this.driver.listUploads()) {
      // A session's first chunk is written before its row: one in progress here is not stray.
      if (/^[0-9a-f-]{36}$/.test(file) && !live.has(file) && !this.locks.has(file)) await this.driver.abort(file);
    }

    return idle.length;
  }

  private async write(upload: UploadRecord, chunk: Chunk, record = true): Promise<number> {
    const { range, length } = chunk;
    if (range) {
      if (range.start !== upload.length || range.end < range.start) {
        throw new RegistryError('RANGE_INVALID', `chunk must start at offset ${upload.length}`, {
          headers: rangeHeader(upload.length),
        });
      }
      if (length !== undefined && length !== range.end - range.start + 1) {
        throw new RegistryError('SIZE_INVALID', 'Content-Length does not match Content-Range');
      }
    }
    const expected = range ? range.end - range.start + 1 : length;
    const running = this.running(upload);
    let received = 0;
    const tapped = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const piece of source) {
        received += piece.byteLength;
        if (expected !== undefined && received > expected) {
          throw new RegistryError('SIZE_INVALID', 'body is longer than declared');
        }
        running?.hash.update(piece);
        yield piece;
      }
    };
    let newLength: number;
    try {
      newLength = await this.driver.append(upload.id, upload.length, tapped(chunk.body));
    } catch (err) {
      // The running hash saw bytes that were not kept; rebuild it from disk next time.
      this.hashes.delete(upload.id);
      await this.discardUnacknowledged(upload);
      throw err;
    }
    if (expected !== undefined && received !== expected) {
      this.hashes.delete(upload.id);
      await this.discardUnacknowledged(upload);
      throw new RegistryError('SIZE_INVALID', `expected ${expected} bytes, received ${received}`);
    }
    if (running) running.length = newLength;
    if (record) await this.content.saveUpload({ ...upload, length: newLength });

    return newLength;
  }

  /**
   * Cuts a session's bytes back to its acknowledged length after a failed chunk, so that what
   * a full disk or a dropped client left behind does not hold space until the session expires.
   * Best effort: the next append discards the same bytes anyway.
   */
  private async discardUnacknowledged(upload: UploadRecord): Promise<void> {
    await this.driver.append(upload.id, upload.length, noBytes()).catch(() => undefined);
  }

  /** The in-memory hash when it matches the stored length; a fresh one for an empty upload. */
  private running(upload: UploadRecord): RunningHash | undefined {
    const algorithm = (upload.algorithm ?? 'sha256') as DigestAlgorithm;
    const current = this.hashes.get(upload.id);
    if (current && current.length === upload.length && current.algorithm === algorithm) return current;
    this.hashes.delete(upload.id);
    if (upload.length !== 0) return undefined;
    const fresh = { algorithm, hash: createDigester(algorithm), length: 0 };
    this.hashes.set(upload.id, fresh);

    return fresh;
  }

  private async digestOf(upload: UploadRecord, length: number, algorithm: DigestAlgorithm): Promise<string> {
    const { id } = upload;
    const running = this.hashes.get(id);
    this.hashes.delete(id);
    if (running && running.length === length && running.algorithm === algorithm) {
      return `${algorithm}:${running.hash.digest('hex')}`;
    }
    const hash = createDigester(algorithm);
    try {
      for await (const piece of this.driver.readUpload(id, length)) hash.update(piece as Buffer);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A crash after the bytes were committed but before the link was recorded: the client
      // must start again, and a retry of the same PUT must not fail the same way forever.
      await this.bury(upload);
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'the bytes of this upload are gone; start it again', {
        cause: err,
      });
    }

    return `${algorithm}:${hash.digest('hex')}`;
  }

  private async drop(id: string): Promise<void> {
    this.hashes.delete(id);
    await this.driver.abort(id);
    await this.content.deleteUpload(id);
  }

  /** Ends a session for good: its bytes go and its location stops working. */
  private async bury(upload: UploadRecord): Promise<void> {
    this.hashes.delete(upload.id);
    await this.driver.abort(upload.id);
    await this.content.endUpload(upload);
  }

  private session(upload: UploadRecord): Session {
    const state = this.signer.sign({
      id: upload.id,
      repository: upload.repository,
      owner: upload.owner,
      algorithm: upload.algorithm,
      createdAt: upload.createdAt,
    });

    return { ...upload, state };
  }

  /** A session that has received nothing yet, known only from its signed location state. */
  private fromState(ref: SessionRef): UploadRecord | undefined {
    const state = this.signer.verify(ref.state);
    if (!state || state.id !== ref.id) return undefined;

    return { ...state, length: 0, updatedAt: state.createdAt };
  }

  /** Runs `work` after any earlier work on the same session has finished. */
  private async exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.locks.set(id, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(id) === next) this.locks.delete(id);
    }
  }
}

async function* noBytes(): AsyncIterable<Uint8Array> {}

/** The `Range` header describing what an upload holds: `0-<last byte>` (`0-0` when empty). */
export function rangeHeader(length: number): Record<string, string> {
  return { Range: `0-${Math.max(length - 1, 0)}` };
}

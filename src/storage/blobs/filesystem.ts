import { createReadStream, constants as fsc } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobDriver, ByteRange } from './driver.js';
import { blobPath, uploadPath, uploadsDir } from './paths.js';

/** Blobs in a local directory: content-addressed, written via rename, fsync'd before commit. */
export class FilesystemBlobDriver implements BlobDriver {
  /** Fan-out directories known to exist, so a commit does not ask the disk each time. */
  private readonly made = new Set<string>();

  constructor(private readonly root: string) {}

  async init(): Promise<void> {
    await mkdir(uploadsDir(this.root), { recursive: true, mode: 0o700 });
    await mkdir(path.join(this.root, 'blobs'), { recursive: true, mode: 0o700 });
  }

  async stat(digest: string): Promise<number | undefined> {
    try {
      return (await stat(blobPath(this.root, digest))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    const handle = await open(blobPath(this.root, digest), 'r');
    const options = range ? { start: range.start, end: range.end } : {};

    return handle.createReadStream({ ...options, highWaterMark: 256 * 1024 });
  }

  async remove(digest: string): Promise<void> {
    await rm(blobPath(this.root, digest), { force: true });
  }

  async append(id: string, offset: number, source: AsyncIterable<Uint8Array>): Promise<number> {
    const file = uploadPath(this.root, id);
    // Anything past `offset` is what an interrupted write left behind: it goes first.
    const flags = fsc.O_RDWR | fsc.O_CREAT | (offset === 0 ? fsc.O_TRUNC : 0);
    const handle = await open(file, flags, 0o600);
    try {
      if (offset > 0) await handle.truncate(offset);
      let position = offset;
      for await (const chunk of source) {
        let written = 0;
        while (written < chunk.byteLength) {
          const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written, position);
          written += bytesWritten;
          position += bytesWritten;
        }
      }
      await handle.datasync();

      return position;
    } finally {
      await handle.close();
    }
  }

  readUpload(id: string, length: number): Readable {
    if (length === 0) return createReadStream('/dev/null');

    return createReadStream(uploadPath(this.root, id), { start: 0, end: length - 1 });
  }

  async commit(id: string, digest: string): Promise<void> {
    const source = uploadPath(this.root, id);
    const target = blobPath(this.root, digest);
    if ((await this.stat(digest)) !== undefined) {
      await rm(source, { force: true });
      return;
    }
    // The bytes are already durable: every append ends with a datasync.
    const dir = path.dirname(target);
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      this.made.add(dir);
    }
    await rename(source, target).catch(async (err: NodeJS.ErrnoException) => {
      // Someone removed the fan-out directory since we made it: make it again, once.
      if (err.code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await rename(source, target);
    });
    await syncDirectory(path.dirname(target));
  }

  async abort(id: string): Promise<void> {
    await rm(uploadPath(this.root, id), { force: true });
  }

  async listUploads(): Promise<string[]> {
    return readdir(uploadsDir(this.root));
  }

  async check(): Promise<void> {
    const probe = path.join(uploadsDir(this.root), `.ready-${process.pid}`);
    await writeFile(probe, '');
    await unlink(probe);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

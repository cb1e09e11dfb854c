// Reproducible pseudo-random blob content: AES-256-CTR keystream under a random key.
// The same bytes can be generated twice (once to learn the digest, once to upload)
// without ever holding the whole blob in memory.
import crypto from 'node:crypto';
import { Readable } from 'node:stream';

export const MiB = 1024 * 1024;

export class RandomBlob {
  constructor(size) {
    this.size = size;
    this.key = crypto.randomBytes(32);
    this.iv = crypto.randomBytes(16);
    this.digest = null;
  }

  /** Yield the content in pieces of `pieceSize` bytes (last piece may be shorter). */
  *pieces(pieceSize = MiB) {
    const cipher = crypto.createCipheriv('aes-256-ctr', this.key, this.iv);
    const zeros = Buffer.alloc(pieceSize);
    for (let off = 0; off < this.size; off += pieceSize) {
      const n = Math.min(pieceSize, this.size - off);
      yield cipher.update(n === pieceSize ? zeros : zeros.subarray(0, n));
    }
  }

  stream(pieceSize = MiB) {
    return Readable.from(this.pieces(pieceSize), { objectMode: false, highWaterMark: 4 * MiB });
  }

  /** One untimed pass to learn the sha256 digest (needed before PUT ?digest=). */
  computeDigest() {
    if (!this.digest) {
      const h = crypto.createHash('sha256');
      for (const piece of this.pieces(4 * MiB)) h.update(piece);
      this.digest = `sha256:${h.digest('hex')}`;
    }
    return this.digest;
  }
}

export function sha256(buf) {
  return `sha256:${crypto.createHash('sha256').update(buf).digest('hex')}`;
}

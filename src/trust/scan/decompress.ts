/**
 * Turns a layer blob into its decompressed bytes, choosing the codec from the first bytes
 * rather than the media type, which pushes may leave generic or wrong.
 *
 * Output is pulled: nothing is decompressed ahead of what the scanner has consumed, so a
 * blob that expands without bound costs only what the scanner's caps allow.
 */

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
// The binding is CommonJS that re-exports a native addon, so it only has a default export in ESM.
import zstd from 'zstd-napi/binding.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** Reading the input failed (not the blob's fault); `cause` is the original error. */
export class SourceError extends Error {
  override name = 'SourceError';
}

/** The blob is not valid data for its compression; the message says why. */
export class DecompressError extends Error {
  override name = 'DecompressError';
}

/** Output pieces; large enough that per-chunk work is amortised, small enough to stay in cache. */
const OUT_CHUNK = 256 * 1024;

/** gzip starts `1f 8b`, a zstd frame `28 b5 2f fd`; anything else is read as plain tar. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';

  return 'none';
}

export interface Inflated {
  compression: Compression;
  /** Decompressed bytes; throws only {@link SourceError} or {@link DecompressError}. */
  chunks: AsyncIterable<Buffer>;
  /** Compressed bytes read so far. */
  readonly compressedBytes: number;
}

/** Sniffs the compression and returns the decompressed stream. */
export async function inflate(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<Inflated> {
  const counter = { bytes: 0 };
  const source = counted(input, counter)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes < 4) {
    const next = await source.next();
    if (next.done) break;
    head.push(next.value);
    headBytes += next.value.length;
  }
  const compression = detectCompression(Buffer.concat(head));
  const raw = replay(head, source);
  const chunks =
    compression === 'gzip' ? gunzip(raw) : compression === 'zstd' ? unzstd(raw) : raw;

  return {
    compression,
    chunks,
    get compressedBytes() {
      return counter.bytes;
    },
  };
}

async function* counted(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  counter: { bytes: number },
): AsyncGenerator<Buffer> {
  try {
    for await (const piece of input) {
      const chunk = Buffer.isBuffer(piece)
        ? piece
        : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      counter.bytes += chunk.length;
      yield chunk;
    }
  } catch (err) {
    throw new SourceError('reading the layer failed', { cause: err });
  }
}

/** The sniffed chunks, then the rest of the input; returning early closes the input. */
async function* replay(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* head;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

async function* gunzip(raw: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const inflater = zlib.createGunzip({ chunkSize: OUT_CHUNK });
  // zlib honours backpressure, so at most a few chunks sit decompressed ahead of the reader.
  const done = pipeline(Readable.from(raw), inflater).catch(() => undefined);
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new DecompressError(`corrupt gzip stream: ${(err as Error).message}`);
  } finally {
    inflater.destroy();
    await done;
  }
}

/**
 * zstd through the native context, one output buffer per step. zstd-napi's own stream
 * decodes a whole input chunk at once (ignoring backpressure), which a bomb would turn into
 * gigabytes held in memory; stepping here keeps one buffer alive. The library's default
 * window limit (128 MiB) stays in force, so a frame cannot demand a larger allocation.
 */
async function* unzstd(raw: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const context = new zstd.DCtx();
  let inFrame = false;
  for await (const input of raw) {
    let rest = input;
    for (;;) {
      const out = Buffer.allocUnsafe(OUT_CHUNK);
      let result: [number, number, number];
      try {
        result = context.decompressStream(out, rest);
      } catch (err) {
        throw new DecompressError(`corrupt zstd stream: ${(err as Error).message}`);
      }
      const [hint, produced, consumed] = result;
      rest = rest.subarray(consumed);
      inFrame = hint !== 0;
      if (produced > 0) yield out.subarray(0, produced);
      if (rest.length === 0 && produced < out.length) break;
      if (produced === 0 && consumed === 0) throw new DecompressError('corrupt zstd stream: no progress');
    }
  }
  if (inFrame) throw new DecompressError('corrupt zstd stream: ends inside a frame');
}

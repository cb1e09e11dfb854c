/**
 * Scans one layer blob as it streams: decompress, walk the tar, scan each regular file,
 * record whiteouts. Memory stays at a few blocks whatever the layer's size.
 */

import type { Readable } from 'node:stream';
import { DecompressError, SourceError, inflate } from './decompress.js';
import { FileScanner } from './file-scanner.js';
import { TarError, TarReader, type TarEntry, type TarVisitor } from './tar-reader.js';
import { DEFAULT_LIMITS, type LayerScan, type ScanLimits } from './types.js';
import { normalizePath, whiteoutOf } from './whiteouts.js';

/** What the tar reader says of bytes that do not start with a tar header. */
const NOT_TAR = 'not a tar archive';
/** The path reported for findings in a blob that is not a tar archive. */
export const RAW_PATH = '(blob)';
/** The path reported for findings in bytes after a tar archive's end-of-archive blocks. */
export const TRAILER_PATH = '(after the end of the archive)';

/** The ratio cap is applied to at least this much compressed input. */
const RATIO_FLOOR = 1024 * 1024;

/** A cap was reached; the scan stops and reports the message as its problem. */
class LimitReached extends Error {}

type Limits = Required<Omit<ScanLimits, 'maxRatio'>> & { maxRatio?: number };

/** Receives tar entries and routes regular files to a scanner. */
class LayerWalker implements TarVisitor {
  private entries = 0;
  private current: FileScanner | undefined;

  constructor(
    private readonly result: LayerScan,
    private readonly limits: Limits,
  ) {}

  entry(entry: TarEntry): boolean {
    if (++this.entries > this.limits.maxEntries) {
      throw new LimitReached(`layer has more than ${this.limits.maxEntries} entries`);
    }
    const path = normalizePath(entry.path);
    const hidden = whiteoutOf(path);
    if (hidden !== undefined) {
      if (hidden !== 'ignore') this.result.whiteouts.push(hidden);
      return false;
    }
    if (entry.type !== 'file') return false;

    this.current = new FileScanner(path, this.limits.maxFileBytes);
    this.result.files++;
    return true;
  }

  data(chunk: Buffer): void {
    this.current!.write(chunk);
  }

  end(): void {
    this.closeFile();
    if (this.result.findings.length > this.limits.maxFindings) {
      throw new LimitReached(`layer has more than ${this.limits.maxFindings} findings`);
    }
  }

  /** Keeps what the file being read has shown so far, also when the scan stops inside it. */
  closeFile(): void {
    if (this.current) this.result.findings.push(...this.current.finish());
    this.current = undefined;
  }
}

/**
 * Scans a layer blob (tar, tar+gzip or tar+zstd, told apart by their first bytes); content
 * that is not a tar archive is scanned as one file named `(blob)`.
 *
 * Never throws for a bad blob: a corrupt stream, a malformed tar or a cap reached ends the
 * scan with `complete: false` and a `problem`, keeping the findings seen before. Only a
 * failure to read `input` itself is thrown (with the reader's own error).
 *
 * @param input the blob's bytes: a stream, or any (async) iterable of buffers
 * @param options caps against bombs; unset fields take {@link DEFAULT_LIMITS}
 */
export async function scanLayer(
  input: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ScanLimits = {},
): Promise<LayerScan> {
  const limits = withDefaults(options);
  const result: LayerScan = { findings: [], whiteouts: [], bytes: 0, files: 0, complete: true };
  const walker = new LayerWalker(result, limits);
  const tar = new TarReader(walker);
  // Content that is no tar archive (a wasm module, a model, a bare key file pushed as a layer)
  // is scanned whole, as one file, so that a layer's media type cannot keep it from the scan.
  let raw: FileScanner | undefined;
  const beforeFirstEntry: Buffer[] = [];

  try {
    const inflated = await inflate(input);
    for await (const chunk of inflated.chunks) {
      result.bytes += chunk.length;
      if (result.bytes > limits.maxLayerBytes) {
        throw new LimitReached(`layer expands past ${limits.maxLayerBytes} bytes`);
      }
      const ratioBase = Math.max(inflated.compressedBytes, RATIO_FLOOR);
      if (limits.maxRatio && inflated.compression !== 'none' && result.bytes > limits.maxRatio * ratioBase) {
        throw new LimitReached(`layer expands more than ${limits.maxRatio} times its compressed size`);
      }
      if (raw) {
        raw.write(chunk);
        continue;
      }
      if (tar.headersRead === 0) beforeFirstEntry.push(chunk);
      else beforeFirstEntry.length = 0;
      try {
        const used = tar.push(chunk);
        // Whatever follows the end-of-archive blocks is no file of the archive, but it is in the
        // blob: it is scanned as such, so nothing can hide behind an early end marker.
        if (tar.ended) raw = new FileScanner(TRAILER_PATH, limits.maxFileBytes).with(chunk.subarray(used));
      } catch (err) {
        if (!(err instanceof TarError && err.message === NOT_TAR)) throw err;
        raw = new FileScanner(RAW_PATH, limits.maxFileBytes);
        result.files++;
        for (const seen of beforeFirstEntry.splice(0)) raw.write(seen);
      }
    }
    if (!raw) {
      try {
        tar.finish();
      } catch (err) {
        // Fewer bytes than one tar header: a small file, not a cut archive.
        if (!(err instanceof TarError) || tar.headersRead > 0) throw err;
        raw = new FileScanner(RAW_PATH, limits.maxFileBytes);
        result.files++;
        for (const seen of beforeFirstEntry.splice(0)) raw.write(seen);
      }
    }
  } catch (err) {
    if (err instanceof SourceError) throw err.cause;
    if (!(err instanceof LimitReached || err instanceof TarError || err instanceof DecompressError)) {
      throw err;
    }
    walker.closeFile();
    result.complete = false;
    result.problem = err.message;
  }
  if (raw) result.findings.push(...raw.finish());

  return result;
}

function withDefaults(options: ScanLimits): Limits {
  return {
    maxLayerBytes: options.maxLayerBytes ?? DEFAULT_LIMITS.maxLayerBytes,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_LIMITS.maxFileBytes,
    maxEntries: options.maxEntries ?? DEFAULT_LIMITS.maxEntries,
    maxFindings: options.maxFindings ?? DEFAULT_LIMITS.maxFindings,
    ...(options.maxRatio === undefined ? {} : { maxRatio: options.maxRatio }),
  };
}

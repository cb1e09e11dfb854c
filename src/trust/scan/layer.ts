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
 * Scans a layer blob (tar, tar+gzip or tar+zstd, told apart by their first bytes).
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
      // After the end-of-archive blocks the rest is padding; it is still read (and counted)
      // so the compressed stream's own end and checksum are verified.
      if (!tar.ended) tar.push(chunk);
    }
    tar.finish();
  } catch (err) {
    if (err instanceof SourceError) throw err.cause;
    if (!(err instanceof LimitReached || err instanceof TarError || err instanceof DecompressError)) {
      throw err;
    }
    walker.closeFile();
    result.complete = false;
    result.problem = err.message;
  }

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

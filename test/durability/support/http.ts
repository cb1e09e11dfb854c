import { createHash, randomBytes, type Hash } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface RawOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** A whole body, or a stream written with back-pressure. */
  body?: Buffer | AsyncIterable<Uint8Array>;
  /** Trusted certificate for https URLs. */
  ca?: string | Buffer;
  signal?: AbortSignal;
  /** Receives the response body piece by piece instead of it being collected. */
  consume?: (piece: Buffer) => void;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP(S) request on its own connection, with full control over how the body is sent:
 * tests stream bodies slowly, abort them halfway or kill the server under them.
 */
export function rawRequest(url: string, options: RawOptions = {}): Promise<RawResponse> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;

  return new Promise<RawResponse>((resolve, reject) => {
    const req = transport.request(target, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
      ca: options.ca,
      signal: options.signal,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) =>
        options.consume ? options.consume(part) : parts.push(part),
      );
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      );
    });
    writeBody(req, options.body).catch((err: unknown) => {
      req.destroy(err as Error);
      reject(err as Error);
    });
  });
}

async function writeBody(req: http.ClientRequest, body: RawOptions['body']): Promise<void> {
  if (body === undefined) {
    req.end();
    return;
  }
  if (Buffer.isBuffer(body)) {
    req.end(body);
    return;
  }
  for await (const chunk of body) {
    if (req.destroyed) return;
    if (!req.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      });
    }
  }
  if (!req.destroyed) req.end();
}

/** The OCI error code of an error response, or undefined. */
export function errorCode(res: RawResponse): string | undefined {
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as { errors?: Array<{ code?: string }> };

    return parsed.errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/**
 * Generated content: every byte is a function of its position, so any part of a large blob
 * can be produced again (for a resumed upload) and its digest computed, without ever holding
 * the whole blob in memory.
 */
export class Pattern {
  private readonly seed = randomBytes(64 * 1024);

  /** The bytes from `start` (inclusive) to `end` (exclusive). */
  bytes(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    for (let i = 0; i < out.length;) {
      const position = start + i;
      const at = position % this.seed.length;
      const n = Math.min(this.seed.length - at, out.length - i);
      this.seed.copy(out, i, at, at + n);
      // Mark each repetition of the seed, so that no two 64 KiB blocks are alike.
      if (at === 0) out[i] = Math.floor(position / this.seed.length) & 0xff;
      i += n;
    }

    return out;
  }

  /**
   * Streams `start`…`end` in pieces of `chunkSize`, pausing `delayMs` after each; `onProgress`
   * runs after each piece with the absolute offset reached.
   */
  async *stream(
    start: number,
    end: number,
    options: {
      chunkSize?: number;
      delayMs?: number;
      onProgress?: (offset: number) => unknown;
    } = {},
  ): AsyncGenerator<Buffer> {
    const size = options.chunkSize ?? 256 * 1024;
    for (let at = start; at < end;) {
      const next = Math.min(at + size, end);
      yield this.bytes(at, next);
      at = next;
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      await options.onProgress?.(at);
    }
  }

  /** The sha256 digest of the first `length` bytes. */
  digest(length: number): string {
    const hash: Hash = createHash('sha256');
    const size = 1024 * 1024;
    for (let at = 0; at < length; at += size)
      hash.update(this.bytes(at, Math.min(at + size, length)));

    return `sha256:${hash.digest('hex')}`;
  }
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../caller.js';
import type { Services } from '../services.js';

/** What a `/v2/<name>/…` handler receives once the route matched and the caller is known. */
export interface V2Context {
  request: FastifyRequest;
  reply: FastifyReply;
  services: Services;
  caller: Caller;
  /** The repository name. */
  name: string;
  /** The path segment after the resource keyword (digest, reference or upload id). */
  param: string;
  query: URLSearchParams;
}

/** Reads a whole request body, refusing anything longer than `limit` bytes. */
export async function readBody(request: FastifyRequest, limit: number, tooLarge: RegistryError): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > limit) throw tooLarge;
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request.raw) {
    size += (part as Buffer).byteLength;
    if (size > limit) throw tooLarge;
    parts.push(part as Buffer);
  }

  return Buffer.concat(parts);
}

/** The declared Content-Length, when the request has one. */
export function contentLength(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new RegistryError('SIZE_INVALID', 'Content-Length is not a number');

  return Number(raw);
}

/** True when the request carries a body (a length above zero, or chunked transfer). */
export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';

  return request.headers['transfer-encoding'] !== undefined;
}

/** Builds a `Link` header for the next page. */
export function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

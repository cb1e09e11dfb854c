import { RegistryError } from '../../errors/registry-error.js';
import { parseDigest } from '../../oci/digest.js';
import type { ByteRange } from '../../storage/blobs/driver.js';
import type { V2Context } from './context.js';
import { enforceBlobPull, refuse } from './trust.js';

/** GET/HEAD /v2/<name>/blobs/<digest> (end-2), with single byte ranges (206/416). */
export async function getBlob(ctx: V2Context): Promise<void> {
  const { digest } = parseDigest(ctx.param);
  const size = await ctx.services.blobs.size(ctx.name, digest);
  await enforceBlobPull(ctx, digest);
  const { reply, request } = ctx;
  reply.header('Docker-Content-Digest', digest);
  reply.header('ETag', `"${digest}"`);
  reply.header('Accept-Ranges', 'bytes');
  reply.header('Content-Type', 'application/octet-stream');
  reply.header('Cache-Control', 'private, max-age=31536000, immutable');
  if (request.headers['if-none-match'] === `"${digest}"`) {
    reply.code(304).send();
    return;
  }

  const range = parseRange(request.headers.range, size);
  if (range === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${size}`);
    throw new RegistryError('RANGE_INVALID', 'requested range not satisfiable');
  }
  const length = range ? range.end - range.start + 1 : size;
  reply.header('Content-Length', length);
  if (range) reply.header('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
  reply.code(range ? 206 : 200);
  if (request.method === 'HEAD' || length === 0) {
    reply.send();
    return;
  }
  reply.send(await ctx.services.blobs.open(digest, range));
}

/** DELETE /v2/<name>/blobs/<digest> (end-10): unlinks the blob from this repository. */
export async function deleteBlob(ctx: V2Context): Promise<void> {
  const { digest } = parseDigest(ctx.param);
  const problem = await ctx.services.trust.tags.blobDeleteProblem(ctx.name, digest);
  if (problem) refuse(ctx, problem);
  await ctx.services.blobs.unlink(ctx.name, digest);
  ctx.reply.code(202).header('Content-Length', 0).send();
}

/**
 * Reads a single-range `Range: bytes=a-b` header. Absent, multi-range and other-unit headers
 * serve the whole blob (RFC 9110 §14.2 lets a server ignore Range, and requires it for units it
 * does not know); a malformed byte range or one outside the blob is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined | 'unsatisfiable' {
  if (!header || !/^\s*bytes=/i.test(header)) return undefined;
  // Range unit names are case-insensitive (RFC 9110 §14.1).
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match) return header.includes(',') ? undefined : 'unsatisfiable';
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return 'unsatisfiable';
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';

    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return 'unsatisfiable';

  return { start, end };
}

import { RegistryError } from '../../errors/registry-error.js';
import { isAlgorithm, parseDigest } from '../../oci/digest.js';
import { isRepositoryName } from '../../oci/names.js';
import { rangeHeader, type Chunk } from '../../registry/uploads.js';
import type { Session, SessionRef } from '../../registry/uploads.js';
import { mayPull } from '../caller.js';
import { contentLength, hasBody, type V2Context } from './context.js';

/** How many repositories a mount without `from` looks through for a readable copy. */
const MOUNT_CANDIDATES = 50;

/** POST /v2/<name>/blobs/uploads/ (end-4a, end-4b, end-11, and `digest-algorithm`). */
export async function startUpload(ctx: V2Context): Promise<void> {
  const { query, services, name, caller } = ctx;
  const mount = query.get('mount');
  if (mount !== null) {
    const { digest } = parseDigest(mount);
    if (await tryMount(ctx, digest, query.get('from'))) return;
  }

  const digest = query.get('digest');
  if (digest !== null && mount === null) {
    const parsed = parseDigest(digest);
    await services.uploads.monolithic(name, caller.principal, parsed.digest, chunkOf(ctx));
    services.trust.scanner.soon(name, parsed.digest);
    sendCreated(ctx, parsed.digest);
    return;
  }

  const algorithm = query.get('digest-algorithm');
  if (algorithm !== null && !isAlgorithm(algorithm)) {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm "${algorithm.slice(0, 32)}"`);
  }
  sendProgress(ctx, services.uploads.start(name, caller.principal, algorithm), 202);
}

/** PATCH <location> (end-5): one chunk with `Content-Range`, or a stream without it. */
export async function patchUpload(ctx: V2Context): Promise<void> {
  const chunk = chunkOf(ctx);
  const upload = await ctx.services.uploads.append(ctx.name, sessionRef(ctx), ctx.caller.principal, chunk);
  sendProgress(ctx, upload, 202);
}

/** PUT <location>?digest= (end-6): closes the session, optionally with a last chunk. */
export async function completeUpload(ctx: V2Context): Promise<void> {
  const digest = ctx.query.get('digest');
  if (digest === null) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required');
  const parsed = parseDigest(digest);
  const chunk = hasBody(ctx.request) ? chunkOf(ctx) : undefined;
  await ctx.services.uploads.complete(ctx.name, sessionRef(ctx), ctx.caller.principal, parsed.digest, chunk);
  ctx.services.trust.scanner.soon(ctx.name, parsed.digest);
  sendCreated(ctx, parsed.digest);
}

/** GET <location> (end-13): where the upload stands. */
export async function uploadStatus(ctx: V2Context): Promise<void> {
  const upload = await ctx.services.uploads.get(ctx.name, sessionRef(ctx), ctx.caller.principal);
  sendProgress(ctx, upload, 204);
}

/** DELETE <location>: cancels the upload. */
export async function cancelUpload(ctx: V2Context): Promise<void> {
  await ctx.services.uploads.cancel(ctx.name, sessionRef(ctx), ctx.caller.principal);
  ctx.reply.code(204).send();
}

/**
 * Links an existing blob instead of uploading it, when both the token and the caller's
 * bindings allow pulling a repository that holds it (distribution, too, wants pull on `from`
 * in the token). Anything else falls through to a normal upload session, so the answer never
 * tells whether the blob exists somewhere the caller cannot read (PROTOCOLS.md §1.5).
 */
async function tryMount(ctx: V2Context, digest: string, from: string | null): Promise<boolean> {
  const { services, caller, name } = ctx;
  let candidates: string[];
  if (from !== null) candidates = isRepositoryName(from) && from !== name ? [from] : [];
  else candidates = (await services.blobs.holders(digest, MOUNT_CANDIDATES)).filter((r) => r !== name);
  const readable: string[] = [];
  for (const repository of candidates) {
    if (mayPull(caller, repository)) readable.push(repository);
  }
  const size = await services.blobs.mount(name, digest, readable);
  if (size === undefined) return false;
  sendCreated(ctx, digest);

  return true;
}

function chunkOf(ctx: V2Context): Chunk {
  const header = ctx.request.headers['content-range'];
  const length = contentLength(ctx.request);
  const body = ctx.request.raw;
  if (header === undefined) return { body, length };
  const match = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/\*|\/\d+)?$/.exec(header.trim());
  if (!match) throw new RegistryError('RANGE_INVALID', 'Content-Range must be <start>-<end>');

  return { body, length, range: { start: Number(match[1]), end: Number(match[2]) } };
}

/** The session named by the path and the location's `_state`. */
function sessionRef(ctx: V2Context): SessionRef {
  return { id: ctx.param, state: ctx.query.get('_state') ?? undefined };
}

function sendProgress(ctx: V2Context, upload: Session, status: 202 | 204): void {
  ctx.reply
    .code(status)
    .header('Location', `/v2/${ctx.name}/blobs/uploads/${upload.id}?_state=${upload.state}`)
    .header('Docker-Upload-UUID', upload.id)
    .headers(rangeHeader(upload.length))
    .header('Content-Length', 0)
    .send();
}

function sendCreated(ctx: V2Context, digest: string): void {
  ctx.reply
    .code(201)
    .header('Location', `/v2/${ctx.name}/blobs/${digest}`)
    .header('Docker-Content-Digest', digest)
    .header('Content-Length', 0)
    .send();
}

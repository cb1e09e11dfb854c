import { RegistryError } from '../../errors/registry-error.js';
import { MANIFEST_TYPES, bareMediaType } from '../../oci/media-types.js';
import { MAX_MANIFEST_BYTES, parseReference } from '../../registry/manifests.js';
import { digestOf, tryParseDigest } from '../../oci/digest.js';
import { parseManifest } from '../../registry/manifest-parse.js';
import { TagChangedError } from '../../storage/metadata/content.js';
import { readBody, type V2Context } from './context.js';
import { enforcePull, refuse, scanBeforePut } from './trust.js';

/** GET/HEAD /v2/<name>/manifests/<reference> (end-3). HEAD answers the same headers. */
export async function getManifest(ctx: V2Context): Promise<void> {
  const manifest = await ctx.services.manifests.get(ctx.name, parseReference(ctx.param));
  await enforcePull(ctx, manifest);
  if (!acceptable(ctx.request.headers.accept, manifest.mediaType)) {
    // The stored bytes are never converted (that would change the digest).
    throw new RegistryError('MANIFEST_UNKNOWN', `manifest is ${manifest.mediaType}, which the Accept header excludes`);
  }
  const { reply } = ctx;
  reply
    .header('Content-Type', manifest.mediaType)
    .header('Content-Length', manifest.size)
    .header('Docker-Content-Digest', manifest.digest)
    .header('ETag', `"${manifest.digest}"`);
  if (ctx.request.headers['if-none-match'] === `"${manifest.digest}"`) {
    reply.code(304).send();
    return;
  }
  reply.code(200).send(ctx.request.method === 'HEAD' ? undefined : manifest.content);
}

/** PUT /v2/<name>/manifests/<reference> (end-7). */
export async function putManifest(ctx: V2Context): Promise<void> {
  const reference = parseReference(ctx.param);
  const body = await readBody(ctx.request, MAX_MANIFEST_BYTES, new RegistryError('MANIFEST_TOO_LARGE'));
  const contentType = bareMediaType(ctx.request.headers['content-type']);
  // Everything the trust policy asks of a push happens before the manifest is stored: a refused
  // push leaves neither a moved tag nor a new manifest, and a quarantine is in place before the
  // manifest can be pulled, whatever crash comes in between.
  const parsed = parseManifest(contentType, body);
  const digest = digestOf(body, 'digest' in reference ? tryParseDigest(reference.digest)!.algorithm : 'sha256');
  const checkTag = async () => {
    if (!('tag' in reference)) return undefined;
    const { problem, current } = await ctx.services.trust.tags.checkMove(ctx.name, reference.tag, digest, body);
    if (problem) refuse(ctx, problem);

    return current;
  };
  let expected = await checkTag();
  const record = { repository: ctx.name, digest, mediaType: parsed.mediaType, artifactType: parsed.artifactType, subject: parsed.subject, annotations: parsed.annotations, size: body.byteLength, content: body };
  await scanBeforePut(ctx, record);
  if (await ctx.services.trust.stageBeforePush(record)) ctx.request.logFields = { ...ctx.request.logFields, trust: 'staged: quarantined until its checks pass' };
  let result;
  for (let attempt = 1; ; attempt++) {
    try {
      result = await ctx.services.manifests.put(ctx.name, reference, contentType, body, ctx.caller.principal, expected);
      break;
    } catch (err) {
      // Another push moved the tag since the rules looked: look again (now against its new target).
      if (!(err instanceof TagChangedError)) throw err;
      if (attempt === 3) throw new RegistryError('UNAVAILABLE', `${err.message} three times; push again`);
      expected = await checkTag();
    }
  }
  const { reply } = ctx;
  reply
    .code(201)
    .header('Location', `/v2/${ctx.name}/manifests/${result.digest}`)
    .header('Docker-Content-Digest', result.digest)
    .header('Content-Length', 0);
  if (result.subject) reply.header('OCI-Subject', result.subject);
  reply.send();
}

/** DELETE /v2/<name>/manifests/<reference> (end-9): a tag, or a manifest and its tags. */
export async function deleteManifest(ctx: V2Context): Promise<void> {
  const reference = parseReference(ctx.param);
  const { tags } = ctx.services.trust;
  const problem = 'tag' in reference ? await tags.tagDeleteProblem(ctx.name, reference.tag) : await tags.manifestDeleteProblem(ctx.name, reference.digest);
  if (problem) refuse(ctx, problem);
  await ctx.services.manifests.delete(ctx.name, reference, ctx.caller.principal);
  ctx.reply.code(202).header('Content-Length', 0).send();
}

/**
 * Whether the Accept header admits `mediaType`. Only a header that names at least one
 * manifest type is taken as a restriction; wildcards and headers naming none admit anything.
 */
export function acceptable(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return true;
  const types = accept.split(',').map((part) => bareMediaType(part));
  if (types.some((t) => t === '*/*' || t === 'application/*' || t === mediaType)) return true;

  return !types.some((t) => MANIFEST_TYPES.has(t));
}

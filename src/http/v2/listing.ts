import { RegistryError } from '../../errors/registry-error.js';
import { OCI_INDEX } from '../../oci/media-types.js';
import { parseDigest } from '../../oci/digest.js';
import { listCatalog, listTags, pageSize, referrersIndex } from '../../registry/listing.js';
import { bindingsAllowPull, type Caller } from '../caller.js';
import type { Services } from '../services.js';
import { nextLink, type V2Context } from './context.js';
import type { FastifyReply } from 'fastify';

const DEFAULT_TAGS_PAGE = 1000;
const DEFAULT_CATALOG_PAGE = 100;

/** GET /v2/<name>/tags/list (end-8a/8b). */
export async function getTags(ctx: V2Context): Promise<void> {
  const n = pageSize(ctx.query.get('n') ?? undefined, DEFAULT_TAGS_PAGE, 10_000, true);
  const last = lastParam(ctx.query);
  const page = await listTags(ctx.services.store.content, ctx.name, n, last);
  if (page.next !== undefined) ctx.reply.header('Link', nextLink(`/v2/${ctx.name}/tags/list`, n, page.next));
  ctx.reply.code(200).send({ name: ctx.name, tags: page.items });
}

/** GET /v2/<name>/referrers/<digest> (end-12a/12b): always 200 with an image index. */
export async function getReferrers(ctx: V2Context): Promise<void> {
  const { digest } = parseDigest(ctx.param);
  const artifactType = ctx.query.get('artifactType') ?? undefined;
  const index = await referrersIndex(ctx.services.store.content, ctx.name, digest, artifactType);
  if (artifactType !== undefined) ctx.reply.header('OCI-Filters-Applied', 'artifactType');
  // A Buffer, because Fastify appends `; charset=utf-8` to a string body of any JSON type and
  // the spec fixes this Content-Type exactly.
  ctx.reply.code(200).header('Content-Type', OCI_INDEX).send(Buffer.from(JSON.stringify(index)));
}

/** GET /v2/_catalog: only repositories the caller may pull are listed. */
export async function getCatalog(services: Services, caller: Caller, query: URLSearchParams, reply: FastifyReply) {
  const max = services.config.catalog.maxEntries;
  const n = pageSize(query.get('n') ?? undefined, Math.min(DEFAULT_CATALOG_PAGE, max), max, false);
  const last = lastParam(query);
  const visible = async (repository: string) => bindingsAllowPull(caller, repository);
  const page = await listCatalog(services.store.content, visible, n, last);
  if (page.next !== undefined) reply.header('Link', nextLink('/v2/_catalog', n, page.next));
  reply.code(200).send({ repositories: page.items });
}

function lastParam(query: URLSearchParams): string | undefined {
  const last = query.get('last') ?? undefined;
  if (last !== undefined && last.length > 256) throw new RegistryError('BAD_REQUEST', 'last is too long');

  return last;
}

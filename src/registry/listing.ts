import { RegistryError } from '../errors/registry-error.js';
import { OCI_INDEX } from '../oci/media-types.js';
import type { ContentStore } from '../storage/metadata/content.js';

export interface Page<T> {
  items: T[];
  /** The `last` value for the next page, when there is one. */
  next?: string;
}

/** Reads `n` (page size) from a query string value; `PAGINATION_NUMBER_INVALID` when bad. */
export function pageSize(raw: string | undefined, fallback: number, max: number, clamp: boolean): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new RegistryError('PAGINATION_NUMBER_INVALID', 'n must be a non-negative integer');
  const n = Number(raw);
  if (n > max) {
    // Tags clamp an oversized n (as distribution does); the catalog refuses it.
    if (clamp) return max;
    throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be at most ${max}`);
  }

  return n;
}

/** Tag names, byte-ordered, with `n`/`last` paging (PROTOCOLS.md §1.8). */
export async function listTags(content: ContentStore, repository: string, n: number, last?: string): Promise<Page<string>> {
  const rows = n === 0 ? [] : await content.listTags(repository, last, n + 1);
  // An empty page needs a second look: an unknown repository is an error, an empty one is not.
  if (rows.length === 0 && !(await content.repositoryExists(repository))) throw new RegistryError('NAME_UNKNOWN');
  const items = rows.slice(0, n);

  return rows.length > n ? { items, next: items.at(-1) } : { items };
}

/** The referrers of `subject` as an image index (PROTOCOLS.md §1.7). */
export async function referrersIndex(
  content: ContentStore,
  repository: string,
  subject: string,
  artifactType?: string,
): Promise<Record<string, unknown>> {
  const rows = await content.referrers(repository, subject, artifactType);
  const manifests = rows.map((m) => {
    const entry: Record<string, unknown> = { mediaType: m.mediaType, digest: m.digest, size: m.size };
    if (m.artifactType) entry.artifactType = m.artifactType;
    if (m.annotations) entry.annotations = m.annotations;

    return entry;
  });

  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}

/**
 * Repository names the caller may see, byte-ordered, with paging. `visible` is asked about
 * each name; names it rejects are skipped without a trace, so the listing reveals nothing.
 */
export async function listCatalog(
  content: ContentStore,
  visible: (repository: string) => Promise<boolean>,
  n: number,
  last?: string,
): Promise<Page<string>> {
  const items: string[] = [];
  let cursor = last;
  const batch = Math.max(n, 100);
  while (items.length <= n) {
    const names = await content.listRepositories(cursor, batch);
    for (const name of names) {
      if (await visible(name)) items.push(name);
      if (items.length > n) break;
    }
    if (names.length < batch) break;
    cursor = names.at(-1);
  }
  const page = items.slice(0, n);

  return items.length > n ? { items: page, next: page.at(-1) } : { items: page };
}

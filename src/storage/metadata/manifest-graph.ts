import { sql } from 'kysely';
import type { Connection } from './connect.js';

/**
 * How manifests, tags and blobs hang together: which tags name a manifest, which manifests
 * list it, when the repository received it. The trust policy's questions, answered by index
 * lookups; the content itself stays with the ContentStore.
 */
export class ManifestGraph {
  constructor(private readonly conn: Connection) {}

  private get db() {
    return this.conn.db;
  }

  /** The tags pointing at `digest` in the repository. */
  async tagsOf(repository: string, digest: string): Promise<string[]> {
    const rows = await this.db.selectFrom('tags').select('name').where('repository', '=', repository).where('digest', '=', digest).execute();

    return rows.map((r) => r.name);
  }

  /** The digest a tag points at, if the tag exists. */
  async tagTarget(repository: string, tag: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('tags').select('digest').where('repository', '=', repository).where('name', '=', tag).executeTakeFirst();

    return row?.digest;
  }

  /** When the repository first received the manifest (the registry's own clock, not the image's claim). */
  async manifestCreatedAt(repository: string, digest: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('manifests').select('created_at').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();

    return row === undefined ? undefined : Number(row.created_at);
  }

  /** The manifests of the repository (indexes) that list `digest` among their children. */
  async parents(repository: string, digest: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('manifest_references')
      .select('parent')
      .where('repository', '=', repository)
      .where('child', '=', digest)
      .execute();

    return rows.map((r) => r.parent);
  }

  /** Every manifest, in any repository, that lists `digest` among its blobs or manifests. */
  async manifestsReferencing(digest: string, limit: number): Promise<{ repository: string; digest: string }[]> {
    const rows = await this.db
      .selectFrom('manifest_references')
      .select(['repository', 'parent'])
      .where('child', '=', digest)
      .orderBy('repository')
      .limit(limit)
      .execute();

    return rows.map((r) => ({ repository: r.repository, digest: r.parent }));
  }

  /**
   * The indexes of the repository that list `digest` and carry something that may sign them (a
   * cosign `.sig`/`.att` tag or a referrer): the only parents through which an unsigned
   * platform manifest can be trusted. Unsigned indexes, however many, do not crowd them out.
   */
  async signedIndexesHolding(repository: string, digest: string, types: readonly string[], limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('manifest_references as r')
      .innerJoin('manifests as m', (join) => join.onRef('m.repository', '=', 'r.repository').onRef('m.digest', '=', 'r.parent'))
      .select('r.parent')
      .where('r.repository', '=', repository)
      .where('r.child', '=', digest)
      .where('m.media_type', 'in', [...types])
      .where((eb) =>
        eb.or([
          eb.exists(eb.selectFrom('manifests as s').select('s.digest').where('s.repository', '=', repository).whereRef('s.subject', '=', 'r.parent')),
          eb.exists(
            eb
              .selectFrom('tags as t')
              .select('t.name')
              .where('t.repository', '=', repository)
              .where((inner) =>
                inner.or([
                  inner('t.name', '=', sql<string>`replace(r.parent, ':', '-') || '.sig'`),
                  inner('t.name', '=', sql<string>`replace(r.parent, ':', '-') || '.att'`),
                ]),
              ),
          ),
        ]),
      )
      .limit(limit)
      .execute();

    return rows.map((r) => r.parent);
  }

  /** What a manifest lists (config, layers, or an index's manifests), in whichever repository holds it. */
  async childrenAnywhere(digest: string): Promise<string[]> {
    const rows = await this.db.selectFrom('manifest_references').select('child').distinct().where('parent', '=', digest).execute();

    return rows.map((r) => r.child);
  }
}

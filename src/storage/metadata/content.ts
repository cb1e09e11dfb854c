import { sql, type Kysely } from 'kysely';
import type { Connection } from './connect.js';
import type { Database } from './tables.js';
import { QueryCache } from './query-cache.js';
import { ENDED, ensureRepository, link, moveTag, saveUpload } from './writes.js';

export interface ManifestRecord {
  repository: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  size: number;
  content: Buffer;
}

export interface NewManifest extends ManifestRecord {
  /** Digests of the blobs and manifests this manifest references (not its subject). */
  children: string[];
  tag?: string;
  /**
   * What the tag must point at when the move happens (null: no tag yet), as the tag rules saw
   * it; when it differs, the store throws {@link TagChangedError} and stores nothing.
   */
  tagExpected?: string | null;
  actor: string;
}

export interface UploadRecord {
  id: string;
  repository: string;
  owner: string;
  length: number;
  algorithm: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Repositories, blob links, manifests, tags and upload sessions. */
/** A tag moved between the tag rules' check and the push that relied on it. */
export class TagChangedError extends Error {
  constructor(tag: string) {
    super(`tag ${tag} moved while the push was checked`);
    this.name = 'TagChangedError';
  }
}

export class ContentStore {
  private readonly hot: QueryCache;

  constructor(private readonly conn: Connection) {
    this.hot = new QueryCache(conn.db);
  }

  private get db(): Kysely<Database> {
    return this.conn.db;
  }

  /**
   * The `name` column compared in byte order, as OCI listings are: SQLite's default collation
   * is, but a PostgreSQL database's may be language-aware (en_US puts `a` before `B`).
   */
  private byteOrdered() {
    const name = sql.ref('name');

    return this.conn.engine === 'postgres' ? sql<string>`${name} collate "C"` : sql<string>`${name}`;
  }

  async repositoryExists(name: string): Promise<boolean> {
    const row = await this.db.selectFrom('repositories').select('name').where('name', '=', name).executeTakeFirst();

    return row !== undefined;
  }

  /** Repository names after `after` in byte order, at most `limit`. */
  async listRepositories(after: string | undefined, limit: number): Promise<string[]> {
    let query = this.db.selectFrom('repositories').select('name').orderBy(this.byteOrdered()).limit(limit);
    if (after !== undefined) query = query.where(this.byteOrdered(), '>', after);

    return (await query.execute()).map((r) => r.name);
  }

  /** The blob's size when `repository` links it; undefined otherwise. */
  async linkedBlobSize(repository: string, digest: string): Promise<number | undefined> {
    const [row] = await this.hot.rows(
      'linkedBlobSize',
      (slot) =>
        this.db
          .selectFrom('repository_blobs as l')
          .innerJoin('blobs as b', 'b.digest', 'l.digest')
          .select('b.size')
          .where('l.repository', '=', slot(0))
          .where('l.digest', '=', slot(1)),
      [repository, digest],
    );

    return row?.size;
  }

  async blobSize(digest: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('blobs').select('size').where('digest', '=', digest).executeTakeFirst();

    return row?.size;
  }

  /** Records the blob and links it into the repository (creating the repository). */
  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    await this.db.transaction().execute((tx) => link(tx, repository, digest, size, Date.now()));
  }

  /** Records a verified upload as a blob linked into its repository and ends the session. */
  async finishUpload(upload: UploadRecord, digest: string, size: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await link(tx, upload.repository, digest, size, Date.now());
      await saveUpload(tx, { ...upload, length: ENDED });
    });
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('repository_blobs')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .executeTakeFirst();

    return result.numDeletedRows > 0n;
  }

  /** Repositories that link `digest`, in name order, at most `limit`. */
  async repositoriesLinking(digest: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('repository_blobs')
      .select('repository')
      .where('digest', '=', digest)
      .orderBy('repository')
      .limit(limit)
      .execute();

    return rows.map((r) => r.repository);
  }

  /** Those of `digests` that `repository` does not link. */
  async missingBlobs(repository: string, digests: string[]): Promise<string[]> {
    return this.missing('repository_blobs', repository, digests);
  }

  /** Those of `digests` that are not manifests of `repository`. */
  async missingManifests(repository: string, digests: string[]): Promise<string[]> {
    return this.missing('manifests', repository, digests);
  }

  private async missing(table: 'repository_blobs' | 'manifests', repository: string, digests: string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    const rows = await this.db
      .selectFrom(table)
      .select('digest')
      .where('repository', '=', repository)
      .where('digest', 'in', digests)
      .execute();
    const found = new Set(rows.map((r) => r.digest));

    return digests.filter((d) => !found.has(d));
  }

  async manifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const [row] = await this.hot.rows(
      'manifest',
      (slot) => this.db.selectFrom('manifests').selectAll().where('repository', '=', slot(0)).where('digest', '=', slot(1)),
      [repository, digest],
    );

    return row && toManifest(row);
  }

  /** The manifest a tag points at, in one query. */
  async manifestByTag(repository: string, tag: string): Promise<ManifestRecord | undefined> {
    const [row] = await this.hot.rows(
      'manifestByTag',
      (slot) =>
        this.db
          .selectFrom('tags as t')
          .innerJoin('manifests as m', (join) =>
            join.onRef('m.repository', '=', 't.repository').onRef('m.digest', '=', 't.digest'),
          )
          .selectAll('m')
          .where('t.repository', '=', slot(0))
          .where('t.name', '=', slot(1)),
      [repository, tag],
    );

    return row && toManifest(row);
  }

  /** Stores the manifest (idempotently) and moves the tag, all in one transaction. */
  async putManifest(m: NewManifest): Promise<void> {
    const now = Date.now();
    await this.db.transaction().execute(async (tx) => {
      await ensureRepository(tx, m.repository, now);
      await tx
        .insertInto('manifests')
        .values({
          repository: m.repository,
          digest: m.digest,
          media_type: m.mediaType,
          artifact_type: m.artifactType,
          subject: m.subject,
          annotations: m.annotations ? JSON.stringify(m.annotations) : null,
          size: m.size,
          content: m.content,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
        .execute();
      const children = [...new Set(m.children)];
      if (children.length > 0) {
        await tx
          .insertInto('manifest_references')
          .values(children.map((child) => ({ repository: m.repository, parent: m.digest, child })))
          .onConflict((oc) => oc.columns(['repository', 'parent', 'child']).doNothing())
          .execute();
      }
      if (m.tag !== undefined) {
        if (m.tagExpected !== undefined) await this.expectTag(tx, m.repository, m.tag, m.tagExpected);
        await moveTag(tx, m.repository, m.tag, m.digest, m.actor, now);
      }
    });
  }

  /**
   * Holds the tag for the rest of the transaction and checks it still points where the tag
   * rules saw it, so that two pushes racing for an immutable tag cannot both move it.
   * SQLite runs one write transaction at a time; PostgreSQL takes a lock named after the tag.
   */
  private async expectTag(tx: Kysely<Database>, repository: string, tag: string, expected: string | null): Promise<void> {
    if (this.conn.engine === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtext(${`${repository}:${tag}`}))`.execute(tx);
    const row = await tx.selectFrom('tags').select('digest').where('repository', '=', repository).where('name', '=', tag).executeTakeFirst();
    if ((row?.digest ?? null) !== expected) throw new TagChangedError(tag);
  }

  /** Deletes a manifest and every tag on it. Returns false when it did not exist. */
  async deleteManifest(repository: string, digest: string, actor: string): Promise<boolean> {
    const now = Date.now();

    return this.db.transaction().execute(async (tx) => {
      const tags = await tx
        .selectFrom('tags')
        .select('name')
        .where('repository', '=', repository)
        .where('digest', '=', digest)
        .execute();
      for (const { name } of tags) await moveTag(tx, repository, name, null, actor, now);
      await tx
        .deleteFrom('manifest_references')
        .where('repository', '=', repository)
        .where('parent', '=', digest)
        .execute();
      const result = await tx
        .deleteFrom('manifests')
        .where('repository', '=', repository)
        .where('digest', '=', digest)
        .executeTakeFirst();

      return result.numDeletedRows > 0n;
    });
  }

  /** Deletes a tag (the manifest stays). Returns false when there was no such tag. */
  async deleteTag(repository: string, tag: string, actor: string): Promise<boolean> {
    return this.db.transaction().execute((tx) => moveTag(tx, repository, tag, null, actor, Date.now()));
  }

  /** Points a tag at a manifest the repository holds, recording why; false when no such manifest. */
  async setTag(repository: string, tag: string, digest: string, actor: string, note: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const held = await tx.selectFrom('manifests').select('digest').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
      if (!held) return false;
      await moveTag(tx, repository, tag, digest, actor, Date.now(), note);

      return true;
    });
  }

  /** Tag names after `after` in byte order, at most `limit`. */
  async listTags(repository: string, after: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.hot.rows(
      after === undefined ? 'listTags' : 'listTagsAfter',
      (slot) => {
        let query = this.db
          .selectFrom('tags')
          .select('name')
          .where('repository', '=', slot(0))
          .orderBy(this.byteOrdered())
          .limit(slot(1));
        if (after !== undefined) query = query.where(this.byteOrdered(), '>', slot(2));

        return query;
      },
      [repository, limit, after],
    );

    return rows.map((r) => r.name);
  }

  /** Manifests of `repository` whose subject is `subject`, oldest first. */
  async referrers(repository: string, subject: string, artifactType?: string): Promise<ManifestRecord[]> {
    let query = this.db
      .selectFrom('manifests')
      .select(['repository', 'digest', 'media_type', 'artifact_type', 'subject', 'annotations', 'size', 'created_at'])
      .where('repository', '=', repository)
      .where('subject', '=', subject)
      .orderBy('created_at')
      .orderBy('digest');
    if (artifactType !== undefined) query = query.where('artifact_type', '=', artifactType);
    const rows = await query.execute();

    return rows.map((r) => toManifest({ ...r, content: Buffer.alloc(0) }));
  }

  async createUpload(upload: { id: string; repository: string; owner: string; algorithm: string | null }): Promise<void> {
    const now = Date.now();
    await this.db
      .insertInto('uploads')
      .values({ ...upload, length: 0, created_at: now, updated_at: now })
      .execute();
  }

  async upload(id: string): Promise<UploadRecord | undefined> {
    const row = await this.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();

    return (
      row && {
        id: row.id,
        repository: row.repository,
        owner: row.owner,
        length: row.length,
        algorithm: row.algorithm,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }
    );
  }

  /** Stores the session with its new length (creating it on its first bytes). */
  async saveUpload(upload: UploadRecord): Promise<void> {
    await saveUpload(this.db, upload);
  }

  /** Leaves a tombstone (length -1) so that the session's location cannot be used again. */
  async endUpload(upload: UploadRecord): Promise<void> {
    await saveUpload(this.db, { ...upload, length: ENDED });
  }

  async setUploadLength(id: string, length: number): Promise<void> {
    await this.db.updateTable('uploads').set({ length, updated_at: Date.now() }).where('id', '=', id).execute();
  }

  async deleteUpload(id: string): Promise<void> {
    await this.db.deleteFrom('uploads').where('id', '=', id).execute();
  }

  /** Ids of sessions idle since before `before`. */
  async idleUploads(before: number): Promise<string[]> {
    const rows = await this.db.selectFrom('uploads').select('id').where('updated_at', '<', before).execute();

    return rows.map((r) => r.id);
  }

  async uploadIds(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('uploads').select('id').execute();

    return new Set(rows.map((r) => r.id));
  }
}

function toManifest(row: Database['manifests']): ManifestRecord {
  return {
    repository: row.repository,
    digest: row.digest,
    mediaType: row.media_type,
    artifactType: row.artifact_type,
    subject: row.subject,
    annotations: row.annotations ? (JSON.parse(row.annotations) as Record<string, string>) : null,
    size: row.size,
    content: Buffer.from(row.content),
  };
}

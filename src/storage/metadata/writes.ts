import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { UploadRecord } from './content.js';
import type { SigningKeyRecord } from './principals.js';
import type { Database } from './tables.js';

// The writes several ContentStore operations share, each run inside the caller's transaction.

/** The length of a finished or cancelled session, kept until it expires. */
export const ENDED = -1;

export async function saveUpload(db: Kysely<Database>, upload: UploadRecord): Promise<void> {
  const now = Date.now();
  await db
    .insertInto('uploads')
    .values({
      id: upload.id,
      repository: upload.repository,
      owner: upload.owner,
      algorithm: upload.algorithm,
      length: upload.length,
      created_at: upload.createdAt,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('id').doUpdateSet({ length: upload.length, updated_at: now }))
    .execute();
}

export async function link(tx: Kysely<Database>, repository: string, digest: string, size: number, now: number): Promise<void> {
  await ensureRepository(tx, repository, now);
  await tx
    .insertInto('blobs')
    .values({ digest, size, created_at: now })
    .onConflict((oc) => oc.column('digest').doNothing())
    .execute();
  await tx
    .insertInto('repository_blobs')
    .values({ repository, digest, created_at: now })
    .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
    .execute();
}

export async function ensureRepository(tx: Kysely<Database>, name: string, now: number): Promise<void> {
  await tx
    .insertInto('repositories')
    .values({ name, created_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/** Points `tag` at `digest` (or removes it for null) and records the move. */
export async function moveTag(
  tx: Kysely<Database>,
  repository: string,
  tag: string,
  digest: string | null,
  actor: string,
  now: number,
  note: string | null = null,
): Promise<boolean> {
  const current = await tx
    .selectFrom('tags')
    .select('digest')
    .where('repository', '=', repository)
    .where('name', '=', tag)
    .executeTakeFirst();
  const previous = current?.digest ?? null;
  if (previous === digest) return false;
  if (digest === null) {
    await tx.deleteFrom('tags').where('repository', '=', repository).where('name', '=', tag).execute();
  } else {
    await tx
      .insertInto('tags')
      .values({ repository, name: tag, digest, updated_at: now })
      .onConflict((oc) => oc.columns(['repository', 'name']).doUpdateSet({ digest, updated_at: now }))
      .execute();
  }
  await tx
    .insertInto('tag_history')
    .values({ id: randomUUID(), repository, tag, digest, previous, actor, at: now, note })
    .execute();

  return true;
}

export async function insertSigningKey(db: Kysely<Database>, key: Omit<SigningKeyRecord, 'retiredAt'>): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      private_jwk: key.privateJwk,
      public_jwk: key.publicJwk,
      created_at: key.createdAt,
      retired_at: null,
    })
    .execute();
}

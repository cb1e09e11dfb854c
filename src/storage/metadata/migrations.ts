import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

/** The column types that differ between the two engines. */
export interface ColumnTypes {
  bigint: 'integer' | 'bigint';
  bytes: ReturnType<typeof sql>;
}

/** Migrations in order; each name sorts after the one before it. Never edit a shipped one. */
function migrations(types: ColumnTypes): Record<string, Migration> {
  return {
    '0001-core': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('namespaces')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('environment', 'text')
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('bindings')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('principal', 'text', (c) => c.notNull())
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addUniqueConstraint('bindings_principal_namespace', ['principal', 'namespace'])
          .execute();
        await db.schema
          .createTable('refresh_tokens')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addColumn('expires_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('signing_keys')
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('private_jwk', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addColumn('retired_at', bigint)
          .execute();
        await db.schema
          .createTable('repositories')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('blobs')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('size', bigint, (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('repository_blobs')
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('repository_blobs_pk', ['repository', 'digest'])
          .execute();
        await db.schema.createIndex('repository_blobs_digest').on('repository_blobs').column('digest').execute();
        await db.schema
          .createTable('manifests')
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('media_type', 'text', (c) => c.notNull())
          .addColumn('artifact_type', 'text')
          .addColumn('subject', 'text')
          .addColumn('annotations', 'text')
          .addColumn('size', bigint, (c) => c.notNull())
          .addColumn('content', types.bytes, (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('manifests_pk', ['repository', 'digest'])
          .execute();
        await db.schema
          .createIndex('manifests_subject')
          .on('manifests')
          .columns(['repository', 'subject'])
          .execute();
        await db.schema
          .createTable('manifest_references')
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('parent', 'text', (c) => c.notNull())
          .addColumn('child', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('manifest_references_pk', ['repository', 'parent', 'child'])
          .execute();
        await db.schema
          .createIndex('manifest_references_child')
          .on('manifest_references')
          .columns(['repository', 'child'])
          .execute();
        await db.schema
          .createTable('tags')
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('updated_at', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('tags_pk', ['repository', 'name'])
          .execute();
        await db.schema.createIndex('tags_digest').on('tags').columns(['repository', 'digest']).execute();
        await db.schema
          .createTable('tag_history')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('tag', 'text', (c) => c.notNull())
          .addColumn('digest', 'text')
          .addColumn('previous', 'text')
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('tag_history_tag')
          .on('tag_history')
          .columns(['repository', 'tag', 'at'])
          .execute();
        await db.schema
          .createTable('uploads')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('length', bigint, (c) => c.notNull())
          .addColumn('algorithm', 'text')
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addColumn('updated_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('changes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('at', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '0002-revocations': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('revocations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('principal', 'text')
          .addColumn('jti', 'text')
          .addColumn('before', bigint)
          .addColumn('reason', 'text')
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addColumn('expires_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('revocations_expiry').on('revocations').column('expires_at').execute();
      },
    },
    '0003-address-rules': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('namespaces').addColumn('allowed_cidrs', 'text').execute();
        await db.schema.alterTable('users').addColumn('allowed_cidrs', 'text').execute();
      },
    },
    '0004-secrets': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('secrets')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('created_at', types.bigint, (c) => c.notNull())
          .execute();
      },
    },
    '0005-environment-exceptions': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('users')
          .addColumn('mixed_environments', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0006-robots': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('robots')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('previous_hash', 'text')
          .addColumn('previous_until', bigint)
          .addColumn('expires_at', bigint, (c) => c.notNull())
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_used_at', bigint)
          .addColumn('last_used_ip', 'text')
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '0007-federation': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('federation_issuers')
          .addColumn('alias', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('issuer', 'text', (c) => c.notNull())
          .addColumn('audiences', 'text', (c) => c.notNull())
          .addColumn('algorithms', 'text', (c) => c.notNull())
          .addColumn('jwks_uri', 'text')
          .addColumn('jwks_file', 'text')
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('federation_rules')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('issuer_alias', 'text', (c) => c.notNull())
          .addColumn('conditions', 'text', (c) => c.notNull())
          .addColumn('allowed_cidrs', 'text')
          .addColumn('mixed_environments', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_used_at', bigint)
          .addColumn('last_used_subject', 'text')
          .addColumn('last_used_ip', 'text')
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema.alterTable('robots').addColumn('allowed_cidrs', 'text').execute();
      },
    },
    '0008-people': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema.alterTable('users').addColumn('external_subject', 'text').execute();
        await db.schema.alterTable('users').addColumn('groups', 'text').execute();
        // Both engines let a unique index hold many NULLs: local users have no external subject.
        await db.schema.createIndex('users_external_subject').unique().on('users').column('external_subject').execute();
        await db.schema
          .createTable('login_codes')
          .addColumn('code_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('challenge', 'text', (c) => c.notNull())
          .addColumn('expires_at', bigint, (c) => c.notNull())
          .addColumn('used_at', bigint)
          .execute();
        await db.schema.createIndex('login_codes_expiry').on('login_codes').column('expires_at').execute();
      },
    },
    '0009-audit': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('audit_events')
          .addColumn('seq', bigint, (c) => c.primaryKey())
          .addColumn('at', bigint, (c) => c.notNull())
          .addColumn('node', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('principal', 'text')
          .addColumn('credential', 'text')
          .addColumn('token_id', 'text')
          .addColumn('federated', 'text')
          .addColumn('address', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('repository', 'text')
          .addColumn('reference', 'text')
          .addColumn('digest', 'text')
          .addColumn('bytes', bigint)
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        for (const column of ['digest', 'credential', 'principal', 'repository', 'address'] as const) {
          await db.schema.createIndex(`audit_${column}`).on('audit_events').columns([column, 'seq']).execute();
        }
        await db.schema.createIndex('audit_at').on('audit_events').column('at').execute();
        await db.schema
          .createTable('audit_head')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('seq', bigint, (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        // The chain starts from a fixed genesis hash; the row exists so appends can lock it.
        await sql`INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ${AUDIT_GENESIS})`.execute(db);
      },
    },
    '0010-audit-checkpoints': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('audit_checkpoints')
          .addColumn('seq', bigint, (c) => c.primaryKey())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('at', bigint, (c) => c.notNull())
          .addColumn('kid', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('signature', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0011-audit-fail-closed': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('namespaces').addColumn('audit_fail_closed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    '0012-audit-exports': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('audit_exports')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('seq', bigint, (c) => c.notNull())
          .addColumn('holder', 'text')
          .addColumn('lease_until', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '0013-audit-summaries': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('audit_summaries')
          .addColumn('last_seq', bigint, (c) => c.primaryKey())
          .addColumn('first_seq', bigint, (c) => c.notNull())
          .addColumn('events', bigint, (c) => c.notNull())
          .addColumn('last_hash', 'text', (c) => c.notNull())
          .addColumn('at', bigint, (c) => c.notNull())
          .addColumn('kid', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('signature', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0014-audit-time-indexes': {
      async up(db: Kysely<unknown>) {
        // "What did this credential (or address) do since T" reads only that stretch of time.
        await db.schema.createIndex('audit_credential_at').on('audit_events').columns(['credential', 'at']).execute();
        await db.schema.createIndex('audit_address_at').on('audit_events').columns(['address', 'at']).execute();
      },
    },
    '0015-trust': {
      async up(db: Kysely<unknown>) {
        const { bigint } = types;
        await db.schema
          .createTable('trust_policies')
          .addColumn('namespace', 'text', (c) => c.primaryKey())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('version', bigint, (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('quarantine')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('namespace', 'text')
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('scan_results')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('complete', 'integer', (c) => c.notNull())
          .addColumn('problem', 'text')
          .addColumn('findings', 'text', (c) => c.notNull())
          .addColumn('whiteouts', 'text', (c) => c.notNull())
          .addColumn('bytes', bigint, (c) => c.notNull())
          .addColumn('at', bigint, (c) => c.notNull())
          .execute();
        // Why a tag moved against the namespace's tag rules (an admin's override), when it did.
        await db.schema.alterTable('tag_history').addColumn('note', 'text').execute();
        // "Which images hold this leaked layer", across repositories, for the exposure report.
        await db.schema.createIndex('manifest_references_any_child').on('manifest_references').column('child').execute();
        await db.schema.createIndex('manifest_references_any_parent').on('manifest_references').column('parent').execute();
      },
    },
  };
}

/** The hash the first audit event is chained to. */
export const AUDIT_GENESIS = '0'.repeat(64);

export function migrationProvider(types: ColumnTypes): MigrationProvider {
  return { getMigrations: async () => migrations(types) };
}

import { randomUUID } from 'node:crypto';
import type { Connection } from './connect.js';
import type { Database } from './tables.js';

export type IssuerKind = 'oidc' | 'spiffe';

export interface IssuerRecord {
  alias: string;
  kind: IssuerKind;
  /** The exact `iss` of an OIDC issuer, or a SPIFFE trust domain name. */
  issuer: string;
  audiences: string[];
  algorithms: string[];
  /** A JWKS (OIDC) or SPIFFE bundle URL; null with no file means OIDC discovery. */
  jwksUri: string | null;
  /** A JWKS or SPIFFE bundle file, for sites that cannot reach the issuer. */
  jwksFile: string | null;
  createdAt: number;
}

/** Claim path → accepted value: an exact string, a glob, or a list of either. */
export type Conditions = Record<string, string | string[]>;

export interface RuleRecord {
  id: string;
  name: string;
  issuerAlias: string;
  conditions: Conditions;
  allowedCidrs: string[] | null;
  mixedEnvironments: boolean;
  disabled: boolean;
  lastUsedAt: number | null;
  /** The external subject (`sub`) of the last token that matched. */
  lastUsedSubject: string | null;
  lastUsedIp: string | null;
  createdAt: number;
}

export interface NewRule {
  name: string;
  issuerAlias: string;
  conditions: Conditions;
  grants: Array<{ namespace: string; role: string }>;
  mixedEnvironments: boolean;
}

/** The principal id of a federation rule: tokens minted through the rule act as it. */
export function rulePrincipal(ruleId: string): string {
  return `rule:${ruleId}`;
}

/** Trusted issuers and the rules that turn their tokens into registry principals. */
export class FederationStore {
  constructor(private readonly conn: Connection) {}

  /** Adds an issuer; false when the alias is taken. */
  async addIssuer(issuer: Omit<IssuerRecord, 'createdAt'>): Promise<boolean> {
    return this.changing(async (tx) => {
      const taken = await tx.selectFrom('federation_issuers').select('alias').where('alias', '=', issuer.alias).executeTakeFirst();
      if (taken) return false;
      await tx
        .insertInto('federation_issuers')
        .values({
          alias: issuer.alias,
          kind: issuer.kind,
          issuer: issuer.issuer,
          audiences: JSON.stringify(issuer.audiences),
          algorithms: JSON.stringify(issuer.algorithms),
          jwks_uri: issuer.jwksUri,
          jwks_file: issuer.jwksFile,
          created_at: Date.now(),
        })
        .execute();

      return true;
    });
  }

  async issuers(): Promise<IssuerRecord[]> {
    const rows = await this.conn.db.selectFrom('federation_issuers').selectAll().orderBy('alias').execute();

    return rows.map(toIssuer);
  }

  /** Removes an issuer that no rule uses; 'in-use' when one does. */
  async removeIssuer(alias: string): Promise<'removed' | 'missing' | 'in-use'> {
    return this.changing(async (tx) => {
      const used = await tx.selectFrom('federation_rules').select('name').where('issuer_alias', '=', alias).executeTakeFirst();
      if (used) return 'in-use';
      const result = await tx.deleteFrom('federation_issuers').where('alias', '=', alias).executeTakeFirst();

      return result.numDeletedRows > 0n ? 'removed' : 'missing';
    });
  }

  /** Creates the rule and its bindings in one transaction; undefined when the name is taken. */
  async addRule(rule: NewRule): Promise<RuleRecord | undefined> {
    const row: Database['federation_rules'] = {
      id: randomUUID(),
      name: rule.name,
      issuer_alias: rule.issuerAlias,
      conditions: JSON.stringify(rule.conditions),
      allowed_cidrs: null,
      mixed_environments: rule.mixedEnvironments ? 1 : 0,
      disabled: 0,
      last_used_at: null,
      last_used_subject: null,
      last_used_ip: null,
      created_at: Date.now(),
    };
    const added = await this.changing(async (tx) => {
      const taken = await tx.selectFrom('federation_rules').select('id').where('name', '=', rule.name).executeTakeFirst();
      if (taken) return false;
      await tx.insertInto('federation_rules').values(row).execute();
      for (const grant of rule.grants) {
        await tx
          .insertInto('bindings')
          .values({ id: randomUUID(), principal: rulePrincipal(row.id), namespace: grant.namespace, role: grant.role, created_at: row.created_at })
          .execute();
      }

      return true;
    });

    return added ? toRule(row) : undefined;
  }

  /** Every rule, in the order they are tried: oldest first. */
  async rules(): Promise<RuleRecord[]> {
    const rows = await this.conn.db.selectFrom('federation_rules').selectAll().orderBy('created_at').orderBy('name').execute();

    return rows.map(toRule);
  }

  async ruleByName(name: string): Promise<RuleRecord | undefined> {
    const row = await this.conn.db.selectFrom('federation_rules').selectAll().where('name', '=', name).executeTakeFirst();

    return row && toRule(row);
  }

  async setRuleDisabled(name: string, disabled: boolean): Promise<boolean> {
    return this.changing(async (tx) => {
      const result = await tx.updateTable('federation_rules').set({ disabled: disabled ? 1 : 0 }).where('name', '=', name).executeTakeFirst();

      return result.numUpdatedRows > 0n;
    });
  }

  /** Deletes the rule and its bindings. */
  async removeRule(name: string): Promise<boolean> {
    return this.changing(async (tx) => {
      const rule = await tx.selectFrom('federation_rules').select('id').where('name', '=', name).executeTakeFirst();
      if (!rule) return false;
      await tx.deleteFrom('bindings').where('principal', '=', rulePrincipal(rule.id)).execute();
      await tx.deleteFrom('federation_rules').where('id', '=', rule.id).execute();

      return true;
    });
  }

  /** Records a use; not an access change, so no other node needs to hear of it. */
  async markRuleUsed(id: string, at: number, subject: string, address: string): Promise<void> {
    await this.conn.db
      .updateTable('federation_rules')
      .set({ last_used_at: at, last_used_subject: subject.slice(0, 512), last_used_ip: address })
      .where('id', '=', id)
      .execute();
  }

  private changing<T>(work: (tx: Connection['db']) => Promise<T>): Promise<T> {
    return this.conn.db.transaction().execute(async (tx) => {
      const result = await work(tx);
      await this.conn.notify(tx);

      return result;
    });
  }
}

function toIssuer(row: Database['federation_issuers']): IssuerRecord {
  return {
    alias: row.alias,
    kind: row.kind as IssuerKind,
    issuer: row.issuer,
    audiences: JSON.parse(row.audiences) as string[],
    algorithms: JSON.parse(row.algorithms) as string[],
    jwksUri: row.jwks_uri,
    jwksFile: row.jwks_file,
    createdAt: row.created_at,
  };
}

function toRule(row: Database['federation_rules']): RuleRecord {
  return {
    id: row.id,
    name: row.name,
    issuerAlias: row.issuer_alias,
    conditions: JSON.parse(row.conditions) as Conditions,
    allowedCidrs: row.allowed_cidrs === null ? null : (JSON.parse(row.allowed_cidrs) as string[]),
    mixedEnvironments: row.mixed_environments !== 0,
    disabled: row.disabled !== 0,
    lastUsedAt: row.last_used_at,
    lastUsedSubject: row.last_used_subject,
    lastUsedIp: row.last_used_ip,
    createdAt: row.created_at,
  };
}

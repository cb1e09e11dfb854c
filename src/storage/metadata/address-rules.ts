import type { Connection } from './connect.js';

export interface AddressRules {
  /** Namespaces that restrict client addresses, with their CIDR allowlists. */
  namespaces: Array<{ namespace: string; cidrs: string[] }>;
  /** Users that may connect only from listed networks, by user id. */
  users: Map<string, string[]>;
}

/** CIDR allowlists on namespaces and on users' credentials. */
export class AddressRuleStore {
  constructor(private readonly conn: Connection) {}

  /** Sets (or with null, clears) a namespace's allowlist. Returns false for no such namespace. */
  async setNamespace(name: string, cidrs: string[] | null): Promise<boolean> {
    return this.update('namespaces', 'name', name, cidrs);
  }

  /** Sets (or with null, clears) a user's allowlist. Returns false for no such user. */
  async setUser(name: string, cidrs: string[] | null): Promise<boolean> {
    return this.update('users', 'name', name, cidrs);
  }

  /** Sets (or with null, clears) a robot's allowlist. Returns false for no such robot. */
  async setRobot(name: string, cidrs: string[] | null): Promise<boolean> {
    return this.update('robots', 'name', name, cidrs);
  }

  /** Sets (or with null, clears) a federation rule's allowlist. Returns false for no such rule. */
  async setRule(name: string, cidrs: string[] | null): Promise<boolean> {
    return this.update('federation_rules', 'name', name, cidrs);
  }

  async all(): Promise<AddressRules> {
    const [namespaces, users] = await Promise.all([
      this.conn.db.selectFrom('namespaces').select(['name', 'allowed_cidrs']).where('allowed_cidrs', 'is not', null).execute(),
      this.conn.db.selectFrom('users').select(['id', 'allowed_cidrs']).where('allowed_cidrs', 'is not', null).execute(),
    ]);

    return {
      namespaces: namespaces.map((n) => ({ namespace: n.name, cidrs: JSON.parse(n.allowed_cidrs!) as string[] })),
      users: new Map(users.map((u) => [u.id, JSON.parse(u.allowed_cidrs!) as string[]])),
    };
  }

  private async update(
    table: 'namespaces' | 'users' | 'robots' | 'federation_rules',
    key: 'name', name: string, cidrs: string[] | null): Promise<boolean> {
    return this.conn.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable(table)
        .set({ allowed_cidrs: cidrs === null ? null : JSON.stringify(cidrs) })
        .where(key, '=', name)
        .executeTakeFirst();
      await this.conn.notify(tx);

      return result.numUpdatedRows > 0n;
    });
  }
}

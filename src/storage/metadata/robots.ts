import { randomUUID } from 'node:crypto';
import type { Connection } from './connect.js';
import type { Database } from './tables.js';

export interface RobotRecord {
  id: string;
  name: string;
  /** The namespace that owns the robot; its binding is on this namespace. */
  namespace: string;
  secretHash: string;
  /** The secret before the last rotation, valid until `previousUntil`. */
  previousHash: string | null;
  previousUntil: number | null;
  expiresAt: number;
  disabled: boolean;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  createdAt: number;
  /** Networks the robot may sign in and work from; null for anywhere. */
  allowedCidrs: string[] | null;
}

/** Robot accounts: static, scoped, expiring secrets for workloads that cannot federate. */
export class RobotStore {
  constructor(private readonly conn: Connection) {}

  /** Creates the robot and its one binding, in one transaction. */
  async create(robot: { name: string; namespace: string; secretHash: string; expiresAt: number; role: string }): Promise<RobotRecord> {
    const row: Database['robots'] = {
      id: randomUUID(),
      name: robot.name,
      namespace: robot.namespace,
      secret_hash: robot.secretHash,
      previous_hash: null,
      previous_until: null,
      expires_at: robot.expiresAt,
      disabled: 0,
      last_used_at: null,
      last_used_ip: null,
      created_at: Date.now(),
      allowed_cidrs: null,
    };
    await this.changing(async (tx) => {
      await tx.insertInto('robots').values(row).execute();
      await tx
        .insertInto('bindings')
        .values({ id: randomUUID(), principal: `robot:${row.id}`, namespace: robot.namespace, role: robot.role, created_at: row.created_at })
        .execute();
    });

    return toRobot(row);
  }

  async byName(name: string): Promise<RobotRecord | undefined> {
    const row = await this.conn.db.selectFrom('robots').selectAll().where('name', '=', name).executeTakeFirst();

    return row && toRobot(row);
  }

  async list(): Promise<RobotRecord[]> {
    return (await this.conn.db.selectFrom('robots').selectAll().orderBy('name').execute()).map(toRobot);
  }

  /** Installs a new secret; the old one stays valid until `previousUntil`. */
  async rotate(name: string, secretHash: string, previousUntil: number): Promise<boolean> {
    return this.changing(async (tx) => {
      const current = await tx.selectFrom('robots').select('secret_hash').where('name', '=', name).executeTakeFirst();
      if (!current) return false;
      await tx
        .updateTable('robots')
        .set({ secret_hash: secretHash, previous_hash: current.secret_hash, previous_until: previousUntil })
        .where('name', '=', name)
        .execute();

      return true;
    });
  }

  async setDisabled(name: string, disabled: boolean): Promise<boolean> {
    return this.changing(async (tx) => {
      const result = await tx.updateTable('robots').set({ disabled: disabled ? 1 : 0 }).where('name', '=', name).executeTakeFirst();

      return result.numUpdatedRows > 0n;
    });
  }

  /** Deletes the robot and its bindings. */
  async remove(name: string): Promise<boolean> {
    return this.changing(async (tx) => {
      const robot = await tx.selectFrom('robots').select('id').where('name', '=', name).executeTakeFirst();
      if (!robot) return false;
      await tx.deleteFrom('bindings').where('principal', '=', `robot:${robot.id}`).execute();
      await tx.deleteFrom('robots').where('id', '=', robot.id).execute();

      return true;
    });
  }

  /** Records a use; not an access change, so no other node needs to hear of it. */
  async markUsed(id: string, at: number, address: string): Promise<void> {
    await this.conn.db.updateTable('robots').set({ last_used_at: at, last_used_ip: address }).where('id', '=', id).execute();
  }

  private changing<T>(work: (tx: Connection['db']) => Promise<T>): Promise<T> {
    return this.conn.db.transaction().execute(async (tx) => {
      const result = await work(tx);
      await this.conn.notify(tx);

      return result;
    });
  }
}

function toRobot(row: Database['robots']): RobotRecord {
  return {
    id: row.id,
    name: row.name,
    namespace: row.namespace,
    secretHash: row.secret_hash,
    previousHash: row.previous_hash,
    previousUntil: row.previous_until,
    expiresAt: row.expires_at,
    disabled: row.disabled !== 0,
    lastUsedAt: row.last_used_at,
    lastUsedIp: row.last_used_ip,
    createdAt: row.created_at,
    allowedCidrs: row.allowed_cidrs === null ? null : (JSON.parse(row.allowed_cidrs) as string[]),
  };
}

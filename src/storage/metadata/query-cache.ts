import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './tables.js';

/** A stand-in value a template puts where a parameter will go. */
export type Slot = (index: number) => never;

const MARK = /^\u0000slot(\d+)$/;

/**
 * Runs hot queries without rebuilding them: each is compiled once, with marked stand-ins for
 * its parameters, and later runs only swap in the values. The SQL is whatever Kysely produced
 * for the engine, so both engines keep one query layer.
 */
export class QueryCache {
  private readonly compiled = new Map<string, { query: CompiledQuery; slots: number[] }>();

  constructor(private readonly db: Kysely<Database>) {}

  async rows<R>(key: string, build: (slot: Slot) => Compilable<R>, values: readonly unknown[]): Promise<R[]> {
    let entry = this.compiled.get(key);
    if (!entry) {
      const query = build(((index: number) => `\u0000slot${index}`) as unknown as Slot).compile();
      const slots = query.parameters.map((p) => {
        const match = typeof p === 'string' ? MARK.exec(p) : null;
        if (!match) throw new TypeError(`query "${key}" has a parameter that is not a slot`);

        return Number(match[1]);
      });
      entry = { query, slots };
      this.compiled.set(key, entry);
    }
    const parameters = entry.slots.map((index) => values[index]);
    const result = await this.db.executeQuery<R>({ ...entry.query, parameters } as CompiledQuery<R>);

    return result.rows;
  }
}

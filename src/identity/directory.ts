import type { Binding, Subject } from '../access/decide.js';
import type { MetadataStore } from '../storage/metadata/index.js';

/** Principal ids are `<kind>:<id>`; users are the only kind so far. */
export function userPrincipal(userId: string): string {
  return `user:${userId}`;
}

interface Snapshot {
  generation: string;
  users: Map<string, { name: string; enabled: boolean }>;
  bindings: Map<string, Binding[]>;
}

/**
 * An in-memory copy of who exists, who is enabled and what they are bound to, reloaded as
 * soon as the store's change feed says anything changed. Every request consults it, so a
 * disabled user or a removed binding takes effect on the next request.
 */
export class Directory {
  private snapshot: Snapshot | undefined;
  private loading: { generation: string; snapshot: Promise<Snapshot> } | undefined;

  constructor(private readonly store: MetadataStore) {}

  /** The subject for `principal`, as of now; unknown principals are disabled and unbound. */
  async subject(principal: string): Promise<Subject> {
    const snapshot = await this.current();
    const user = snapshot.users.get(principal);

    return {
      principal,
      enabled: user?.enabled ?? false,
      bindings: snapshot.bindings.get(principal) ?? [],
    };
  }

  /** The generation the current snapshot was loaded at; changes whenever access data does. */
  async generation(): Promise<string> {
    return (await this.current()).generation;
  }

  private async current(): Promise<Snapshot> {
    const generation = this.store.changes.generation();
    if (this.snapshot?.generation === generation) return this.snapshot;
    // Requests at one generation share a load; a load begun at an older generation may have
    // read before the latest change committed, so a request that saw the change never joins it.
    if (this.loading?.generation !== generation) {
      const snapshot = this.load(generation).finally(() => {
        if (this.loading?.snapshot === snapshot) this.loading = undefined;
      });
      this.loading = { generation, snapshot };
    }

    return this.loading.snapshot;
  }

  private async load(generation: string): Promise<Snapshot> {
    const [users, bindings] = await Promise.all([
      this.store.principals.listUsers(),
      this.store.principals.listBindings(),
    ]);
    const snapshot: Snapshot = { generation, users: new Map(), bindings: new Map() };
    for (const u of users) snapshot.users.set(userPrincipal(u.id), { name: u.name, enabled: !u.disabled });
    for (const b of bindings) {
      const list = snapshot.bindings.get(b.principal) ?? [];
      list.push({ principal: b.principal, namespace: b.namespace, role: b.role });
      snapshot.bindings.set(b.principal, list);
    }
    this.snapshot = snapshot;

    return snapshot;
  }
}

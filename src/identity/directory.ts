import type { Binding, Subject } from '../access/decide.js';
import { environmentMixing } from '../access/environments.js';
import { inNamespace } from '../oci/names.js';
import type { NamespaceRule } from '../access/network.js';
import { rulePrincipal } from '../storage/metadata/federation.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { Reloading } from '../storage/metadata/reloading.js';
import { robotPrincipal } from './robots.js';

/** Principal ids are `<kind>:<id>`: `user:`, `robot:` and `rule:` (a federation rule). */
export function userPrincipal(userId: string): string {
  return `user:${userId}`;
}

/** A group at the OpenID provider holds bindings as `group:<name>`; its members inherit them. */
export function groupPrincipal(group: string): string {
  return `group:${group}`;
}

interface Snapshot {
  generation: string;
  /** Users, robots and federation rules by principal; a robot also has the time it expires. */
  users: Map<string, { name: string; enabled: boolean; cidrs: string[] | null; expiresAt?: number; groups?: string[]; mixed?: boolean }>;
  /** Every namespace's environment label. */
  labels: Map<string, string | null>;
  /** Namespaces whose pulls need their audit record written first. */
  auditFailClosed: string[];
  /** People's own and group bindings together, filled in as they are first asked for. */
  merged: Map<string, Binding[]>;
  namespaceRules: NamespaceRule[];
  bindings: Map<string, Binding[]>;
  revokedTokens: Set<string>;
  /** Per principal: tokens issued before this time (ms) are void. */
  revokedBefore: Map<string, number>;
  /** Every token issued before this time (ms) is void. */
  allBefore: number;
}

/** What the revocation check needs from a token. */
export interface TokenIdentity {
  sub: string;
  jti: string;
  issuedAtMs: number;
}

/**
 * An in-memory copy of who exists, who is enabled, what they are bound to and which tokens
 * are revoked, reloaded as soon as the store's change feed says anything changed. Every
 * request consults it, so a disabled user, a removed binding or a revocation takes effect on
 * the next request.
 */
export class Directory {
  private readonly snapshots: Reloading<Snapshot>;

  constructor(private readonly store: MetadataStore) {
    this.snapshots = new Reloading(store.changes, (generation) => this.load(generation));
  }

  /** The subject for `principal`, as of now; unknown principals are disabled and unbound. */
  async subject(principal: string): Promise<Subject> {
    return this.subjectIn(await this.current(), principal);
  }

  private subjectIn(snapshot: Snapshot, principal: string): Subject {
    const user = snapshot.users.get(principal);

    return {
      principal,
      enabled: (user?.enabled ?? false) && (user?.expiresAt === undefined || user.expiresAt > Date.now()),
      bindings: this.bindingsIn(snapshot, principal, user),
      allowedCidrs: user?.cidrs ?? null,
      namespaceRules: snapshot.namespaceRules,
    };
  }

  /**
   * A person's own bindings and those of the groups the provider last named for it. Group
   * membership changes at the provider, without an admin, so a combination that would reach
   * production and non-production without the person's exception keeps only its own bindings.
   */
  private bindingsIn(snapshot: Snapshot, principal: string, user: { groups?: string[]; mixed?: boolean } | undefined): Binding[] {
    const own = snapshot.bindings.get(principal) ?? [];
    const groups = user?.groups ?? [];
    if (groups.length === 0) return own;
    // Worked out once per snapshot, not on every request of the person.
    let merged = snapshot.merged.get(principal);
    if (!merged) {
      const all = [...own, ...groups.flatMap((g) => snapshot.bindings.get(groupPrincipal(g)) ?? [])];
      const mixing = !user?.mixed && environmentMixing(all.map((b) => b.namespace), (n) => snapshot.labels.get(n) ?? null, [...snapshot.labels.keys()]);
      merged = mixing ? own : all;
      snapshot.merged.set(principal, merged);
    }

    return merged;
  }

  /** The token's subject as of now, and why the token is revoked when it is; one lookup. */
  async holder(token: TokenIdentity): Promise<{ subject: Subject; revoked: string | undefined }> {
    const snapshot = await this.current();

    return { subject: this.subjectIn(snapshot, token.sub), revoked: this.revokedIn(snapshot, token) };
  }

  private revokedIn(snapshot: Snapshot, token: TokenIdentity): string | undefined {
    if (snapshot.revokedTokens.has(token.jti)) return 'token revoked';
    if (token.issuedAtMs < (snapshot.revokedBefore.get(token.sub) ?? 0)) return "subject's tokens revoked";
    if (token.issuedAtMs < snapshot.allBefore) return 'all tokens revoked';

    return undefined;
  }

  /** True when a pull from `repository` must be refused unless its audit record is written first. */
  async auditFailClosed(repository: string): Promise<boolean> {
    return (await this.current()).auditFailClosed.some((n) => inNamespace(repository, n));
  }

  /** The generation the current snapshot was loaded at; changes whenever access data does. */
  async generation(): Promise<string> {
    return (await this.current()).generation;
  }

  private current(): Promise<Snapshot> {
    return this.snapshots.current();
  }

  private async load(generation: string): Promise<Snapshot> {
    const [users, bindings, revocations, rules, robots, federationRules, namespaces] = await Promise.all([
      this.store.principals.listUsers(),
      this.store.principals.listBindings(),
      this.store.revocations.active(Date.now()),
      this.store.addressRules.all(),
      this.store.robots.list(),
      this.store.federation.rules(),
      this.store.principals.listNamespaces(),
    ]);
    const snapshot: Snapshot = {
      generation,
      users: new Map(),
      namespaceRules: rules.namespaces,
      labels: new Map(namespaces.map((n) => [n.name, n.environment])),
      auditFailClosed: namespaces.filter((n) => n.auditFailClosed).map((n) => n.name),
      merged: new Map(),
      bindings: new Map(),
      revokedTokens: new Set(),
      revokedBefore: new Map(),
      allBefore: 0,
    };
    for (const r of revocations) {
      if (r.kind === 'token' && r.jti) snapshot.revokedTokens.add(r.jti);
      if (r.kind === 'subject' && r.principal && r.before !== null) {
        snapshot.revokedBefore.set(r.principal, Math.max(r.before, snapshot.revokedBefore.get(r.principal) ?? 0));
      }
      if (r.kind === 'all' && r.before !== null) snapshot.allBefore = Math.max(snapshot.allBefore, r.before);
    }
    for (const r of robots) {
      snapshot.users.set(robotPrincipal(r.id), { name: r.name, enabled: !r.disabled, cidrs: r.allowedCidrs, expiresAt: r.expiresAt });
    }
    for (const r of federationRules) {
      snapshot.users.set(rulePrincipal(r.id), { name: r.name, enabled: !r.disabled, cidrs: r.allowedCidrs });
    }
    for (const u of users) {
      snapshot.users.set(userPrincipal(u.id), {
        name: u.name,
        enabled: !u.disabled,
        cidrs: rules.users.get(u.id) ?? null,
        groups: u.groups ?? [],
        mixed: u.mixedEnvironments,
      });
    }
    for (const b of bindings) {
      const list = snapshot.bindings.get(b.principal) ?? [];
      list.push({ principal: b.principal, namespace: b.namespace, role: b.role });
      snapshot.bindings.set(b.principal, list);
    }

    return snapshot;
  }
}

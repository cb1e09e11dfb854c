import { groupPrincipal, userPrincipal } from '../identity/directory.js';
import { RULE_PREFIX } from '../identity/federation/service.js';
import { ROBOT_PREFIX, robotPrincipal } from '../identity/robots.js';
import { rulePrincipal } from '../storage/metadata/federation.js';
import type { MetadataStore } from '../storage/metadata/index.js';

export type HolderKind = 'user' | 'person' | 'robot' | 'rule' | 'group';

/**
 * Someone bindings can be held by, named the way an administrator types it: a user's name,
 * `robot+NAME`, `rule+NAME` or `group:NAME`. Carries no credential material.
 */
export interface Holder {
  name: string;
  kind: HolderKind;
  principal: string;
  disabled: boolean;
  /** When a robot's secret stops working (ms); undefined for everyone else. */
  expiresAt?: number;
  /** A person's groups as the provider last named them. */
  groups: string[];
  /** What the holder is, for the identity line of an explanation. */
  description: string;
}

/**
 * Every holder the store knows: users and people, robots, federation rules, and the groups
 * that hold a binding or that some person was last seen in (a group exists only at the
 * provider, so those are the only traces of it here).
 */
export async function loadRoster(store: MetadataStore): Promise<Holder[]> {
  const [users, robots, rules, bindings] = await Promise.all([
    store.principals.listUsers(),
    store.robots.list(),
    store.federation.rules(),
    store.principals.listBindings(),
  ]);
  const holders: Holder[] = [];
  for (const u of users) {
    const person = u.externalSubject !== null && u.externalSubject !== undefined;
    const groups = u.groups ?? [];
    const description = person
      ? `person ${u.name} (signs in through the OpenID provider; groups at last sign-in: ${groups.join(', ') || 'none'})`
      : `user ${u.name}`;
    holders.push({ name: u.name, kind: person ? 'person' : 'user', principal: userPrincipal(u.id), disabled: u.disabled, groups, description });
  }
  for (const r of robots) {
    const name = `${ROBOT_PREFIX}${r.name}`;
    const description = `${name} (robot of namespace ${r.namespace}, expires ${new Date(r.expiresAt).toISOString()})`;
    holders.push({ name, kind: 'robot', principal: robotPrincipal(r.id), disabled: r.disabled, expiresAt: r.expiresAt, groups: [], description });
  }
  for (const r of rules) {
    const name = `${RULE_PREFIX}${r.name}`;
    holders.push({ name, kind: 'rule', principal: rulePrincipal(r.id), disabled: r.disabled, groups: [], description: `${name} (federation rule of issuer ${r.issuerAlias})` });
  }
  const prefix = groupPrincipal('');
  const groupNames = new Set([
    ...bindings.filter((b) => b.principal.startsWith(prefix)).map((b) => b.principal.slice(prefix.length)),
    ...users.flatMap((u) => u.groups ?? []),
  ]);
  for (const g of [...groupNames].sort()) {
    const description = `group ${g} of the OpenID provider (its members get its bindings on top of their own)`;
    holders.push({ name: `${prefix}${g}`, kind: 'group', principal: groupPrincipal(g), disabled: false, groups: [], description });
  }

  return holders;
}

/** Whether the holder is past its expiry at `now`; only robots expire. */
export function expired(holder: Holder, now: number): boolean {
  return holder.expiresAt !== undefined && holder.expiresAt <= now;
}

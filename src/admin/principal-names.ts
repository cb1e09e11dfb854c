import { userPrincipal } from '../identity/directory.js';
import { RULE_PREFIX } from '../identity/federation/service.js';
import { ROBOT_PREFIX, robotPrincipal } from '../identity/robots.js';
import { rulePrincipal } from '../storage/metadata/federation.js';
import type { MetadataStore } from '../storage/metadata/index.js';

/**
 * Turns the principal ids that records keep (`user:<uuid>`, `robot:<uuid>`, `rule:<uuid>`)
 * into the names an administrator types: the user's name, `robot+NAME`, `rule+NAME`.
 * Anything else (`api:NAME`, `cli:NAME`, `portcullis`, a group) is already a name and stays.
 * An id whose holder has since been removed stays as it is, so the record can still be traced.
 */
export type PrincipalNamer = (principal: string) => string;

/** Loads only the kinds of holder that `principals` mention, once, and names from that. */
export async function principalNamer(store: MetadataStore, principals: Iterable<string>): Promise<PrincipalNamer> {
  const kinds = new Set([...principals].map((p) => p.slice(0, p.indexOf(':'))));
  const [users, robots, rules] = await Promise.all([
    kinds.has('user') ? store.principals.listUsers() : [],
    kinds.has('robot') ? store.robots.list() : [],
    kinds.has('rule') ? store.federation.rules() : [],
  ]);
  const names = new Map<string, string>([
    ...users.map((u): [string, string] => [userPrincipal(u.id), u.name]),
    ...robots.map((r): [string, string] => [robotPrincipal(r.id), `${ROBOT_PREFIX}${r.name}`]),
    ...rules.map((r): [string, string] => [rulePrincipal(r.id), `${RULE_PREFIX}${r.name}`]),
  ]);

  return (principal) => names.get(principal) ?? principal;
}

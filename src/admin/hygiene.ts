import { environmentMixing } from '../access/environments.js';
import type { Config } from '../config/schema.js';
import { groupPrincipal, userPrincipal } from '../identity/directory.js';
import { RULE_PREFIX } from '../identity/federation/service.js';
import { ROBOT_PREFIX, robotPrincipal } from '../identity/robots.js';
import { rulePrincipal } from '../storage/metadata/federation.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { DAY_MS } from './errors.js';

export interface CredentialEntry {
  credential: string;
  kind: 'user' | 'robot' | 'rule' | 'group';
  /** Who answers for it: the user, the robot's namespace, the rule's issuer. */
  owner: string;
  createdAt: number | null;
  expiresAt: number | null;
  lastUsedAt: number | null;
  namespaces: string[];
  roles: string[];
  environments: string[];
  findings: string[];
}

/**
 * The credential hygiene report: every credential with its owner, age, expiry, last use and
 * reach, and what is wrong with it. Last use comes from the credential itself where it records
 * one (robots, rules) and otherwise from the audit log's last successful sign-in.
 */
export class HygieneAdmin {
  constructor(
    private readonly store: MetadataStore,
    private readonly config: Config,
  ) {}

  async report(unusedDays: number, now = Date.now()): Promise<CredentialEntry[]> {
    const [users, robots, rules, issuers, bindings, namespaces] = await Promise.all([
      this.store.principals.listUsers(),
      this.store.robots.list(),
      this.store.federation.rules(),
      this.store.federation.issuers(),
      this.store.principals.listBindings(),
      this.store.principals.listNamespaces(),
    ]);
    const labels = new Map(namespaces.map((n) => [n.name, n.environment]));
    const known = [...labels.keys()];
    const aliases = new Set([...issuers.map((i) => i.alias), ...this.config.federation.issuers.map((i) => i.alias)]);
    const reach = (principal: string) => bindings.filter((b) => b.principal === principal);
    const entries: CredentialEntry[] = [];
    const add = async (base: Omit<CredentialEntry, 'namespaces' | 'roles' | 'environments' | 'findings'>, principal: string, extra: string[], exempt = false) => {
      const held = reach(principal);
      const names = held.map((b) => b.namespace);
      const findings = [...extra];
      if (names.includes('*')) findings.push('wildcard scope: bound on * (every repository)');
      const mixing = environmentMixing(names, (n) => labels.get(n) ?? null, known);
      if (mixing && !exempt) findings.push(`spans production and non-production: ${mixing.replace(/^would reach/, 'reaches')}`);
      if (mixing && exempt) findings.push('spans production and non-production (recorded exception)');
      const lastUsed = base.lastUsedAt ?? (await this.store.audit.latest({ credential: base.credential, actions: ['auth.token', 'auth.signin'], outcome: 'allowed' }))?.at ?? null;
      if (held.length > 0 && (lastUsed === null ? (base.createdAt ?? now) : lastUsed) < now - unusedDays * DAY_MS) {
        findings.push(`unused for more than ${unusedDays} days`);
      }
      const environments = [...new Set(names.map((n) => (n === '*' ? '*' : (labels.get(n) ?? '(none)'))))].sort();
      entries.push({ ...base, lastUsedAt: lastUsed, namespaces: names, roles: [...new Set(held.map((b) => b.role))].sort(), environments, findings });
    };

    for (const u of users) {
      const extra = u.disabled && reach(userPrincipal(u.id)).length > 0 ? ['owner disabled: the user is disabled but still holds bindings'] : [];
      await add({ credential: u.name, kind: 'user', owner: u.name, createdAt: u.createdAt, expiresAt: null, lastUsedAt: null }, userPrincipal(u.id), extra, u.mixedEnvironments);
    }
    const maxLifetime = this.config.robots.maxLifetimeDays * DAY_MS;
    for (const r of robots) {
      const extra: string[] = [];
      if (r.expiresAt - r.createdAt > maxLifetime) extra.push(`expiry past policy: lives longer than robots.maxLifetimeDays (${this.config.robots.maxLifetimeDays})`);
      if (r.expiresAt <= now) extra.push('expired');
      if (r.disabled) extra.push('disabled');
      await add({ credential: `${ROBOT_PREFIX}${r.name}`, kind: 'robot', owner: `namespace ${r.namespace}`, createdAt: r.createdAt, expiresAt: r.expiresAt, lastUsedAt: r.lastUsedAt }, robotPrincipal(r.id), extra);
    }
    for (const r of rules) {
      const extra = aliases.has(r.issuerAlias) ? [] : [`owner missing: issuer ${r.issuerAlias} is no longer trusted`];
      if (Object.values(r.conditions).flat().some((p) => p.includes('**'))) extra.push('wildcard claim condition (**)');
      await add({ credential: `${RULE_PREFIX}${r.name}`, kind: 'rule', owner: `issuer ${r.issuerAlias}`, createdAt: r.createdAt, expiresAt: null, lastUsedAt: r.lastUsedAt }, rulePrincipal(r.id), extra, r.mixedEnvironments);
    }
    const groups = [...new Set(bindings.map((b) => b.principal).filter((p) => p.startsWith(groupPrincipal(''))))];
    for (const principal of groups) {
      const name = principal.slice(groupPrincipal('').length);
      entries.push({
        credential: principal,
        kind: 'group',
        owner: 'OpenID provider',
        createdAt: null,
        expiresAt: null,
        lastUsedAt: null,
        namespaces: reach(principal).map((b) => b.namespace),
        roles: [...new Set(reach(principal).map((b) => b.role))].sort(),
        environments: [...new Set(reach(principal).map((b) => labels.get(b.namespace) ?? '(none)'))].sort(),
        findings: reach(principal).some((b) => b.namespace === '*') ? [`wildcard scope: group ${name} is bound on *`] : [],
      });
    }

    return entries;
  }
}

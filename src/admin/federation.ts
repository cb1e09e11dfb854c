import { environmentMixing } from '../access/environments.js';
import { isRole } from '../access/roles.js';
import { issuerSchema, type Config } from '../config/schema.js';
import { conditionsProblem } from '../identity/federation/claims.js';
import { RULE_PREFIX } from '../identity/federation/service.js';
import { rulePrincipal } from '../storage/metadata/federation.js';
import type { Conditions, MetadataStore } from '../storage/metadata/index.js';
import { conflict, invalid, missing, NAME } from './errors.js';

export interface RuleInput {
  name: string;
  issuer: string;
  conditions: Conditions;
  grants: Array<{ namespace: string; role: string }>;
  mixedEnvironments?: boolean;
}

/** Trusted issuers and the rules that map their tokens' claims to bindings. */
export class FederationAdmin {
  constructor(
    private readonly store: MetadataStore,
    private readonly config: Config,
  ) {}

  /** Validates and stores an issuer definition (the same shape as in the configuration file). */
  async addIssuer(input: unknown) {
    const parsed = issuerSchema.safeParse(input);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      throw invalid(`${first.path.length > 0 ? `${first.path.join('.')}: ` : ''}${first.message}`);
    }
    const issuer = parsed.data;
    if (this.configured(issuer.alias)) throw conflict(`issuer "${issuer.alias}" is defined in the configuration file`);
    if (await this.store.principals.userByName(issuer.alias)) throw conflict(`"${issuer.alias}" is a user's name; choose another alias`);
    const same = (await this.issuers()).find((i) => i.kind === issuer.kind && i.issuer === issuer.issuer);
    if (same) throw conflict(`issuer ${issuer.issuer} is trusted already, as "${same.alias}"`);
    const record = { ...issuer, jwksUri: issuer.jwksUri ?? null, jwksFile: issuer.jwksFile ?? null };
    if (!(await this.store.federation.addIssuer(record))) throw conflict(`issuer "${issuer.alias}" already exists`);

    return record;
  }

  /**
   * Every trusted issuer, from the configuration file and from the store. A stored issuer whose
   * alias the file also defines is `shadowed`: the file's definition is the one in force.
   */
  async issuers() {
    const configured = this.config.federation.issuers.map((i) => ({ ...i, jwksUri: i.jwksUri ?? null, jwksFile: i.jwksFile ?? null, source: 'config' as const, shadowed: false }));
    const stored = (await this.store.federation.issuers()).map(({ createdAt: _, ...i }) => ({ ...i, source: 'store' as const, shadowed: this.configured(i.alias) }));

    return [...configured, ...stored];
  }

  async removeIssuer(alias: string): Promise<void> {
    const result = await this.store.federation.removeIssuer(alias);
    if (result === 'missing') throw missing(this.configured(alias) ? `issuer "${alias}" is defined in the configuration file` : `no issuer "${alias}" in the store`);
    if (result === 'in-use') throw conflict(`rules still use issuer "${alias}"; remove them first`);
  }

  /**
   * Adds a rule. It needs at least one claim condition that does not match everything, bindings
   * on existing namespaces (never `*`, never admin), and an explicit exception to reach both
   * production and non-production namespaces.
   */
  async addRule(input: RuleInput) {
    if (!NAME.test(input.name)) throw invalid('rule names are 1-64 characters: a-z, 0-9, ".", "_", "-"');
    const problem = conditionsProblem(input.conditions);
    if (problem) throw invalid(problem);
    if (input.grants.length === 0) throw invalid('a rule needs at least one grant');
    for (const grant of input.grants) {
      if (grant.namespace === '*') throw invalid('a federation rule cannot be bound to every namespace (*)');
      if (!isRole(grant.role) || grant.role === 'admin') throw invalid(`a rule's role must be reader, writer or maintainer, not "${grant.role}"`);
    }
    if (!this.configured(input.issuer) && !(await this.store.federation.issuers()).some((i) => i.alias === input.issuer)) {
      throw missing(`no issuer "${input.issuer}": add it (federation issuer add), or pass the configuration file that defines it (--config or PORTCULLIS_CONFIG)`);
    }
    const labels = new Map((await this.store.principals.listNamespaces()).map((n) => [n.name, n.environment]));
    const unknown = input.grants.find((g) => !labels.has(g.namespace));
    if (unknown) throw missing(`no namespace "${unknown.namespace}"`);
    if (new Set(input.grants.map((g) => g.namespace)).size !== input.grants.length) throw invalid('a rule has at most one role per namespace');
    const mixing = environmentMixing(input.grants.map((g) => g.namespace), (n) => labels.get(n) ?? null, [...labels.keys()]);
    if (mixing && !input.mixedEnvironments) {
      throw conflict(`refusing: rule ${input.name} ${mixing}; allow it explicitly with --mixed-environments (API: "mixedEnvironments": true)`);
    }
    const rule = await this.store.federation.addRule({
      name: input.name,
      issuerAlias: input.issuer,
      conditions: input.conditions,
      grants: input.grants,
      mixedEnvironments: !!input.mixedEnvironments,
    });
    if (!rule) throw conflict(`rule "${input.name}" already exists`);

    return rule.name;
  }

  /** Rules in the order they are tried, with their bindings and last use. */
  async rules() {
    const [rules, bindings] = await Promise.all([this.store.federation.rules(), this.store.principals.listBindings()]);

    return rules.map((r) => ({
      name: r.name,
      signInName: `${RULE_PREFIX}${r.name}`,
      issuer: r.issuerAlias,
      conditions: r.conditions,
      grants: bindings.filter((b) => b.principal === rulePrincipal(r.id)).map((b) => ({ namespace: b.namespace, role: b.role })),
      disabled: r.disabled,
      mixedEnvironments: r.mixedEnvironments,
      allowedCidrs: r.allowedCidrs,
      lastUsedAt: r.lastUsedAt,
      lastUsedSubject: r.lastUsedSubject,
      lastUsedIp: r.lastUsedIp,
    }));
  }

  async setRuleDisabled(name: string, disabled: boolean): Promise<void> {
    if (!(await this.store.federation.setRuleDisabled(name, disabled))) throw missing(`no rule "${name}"`);
  }

  async removeRule(name: string): Promise<void> {
    if (!(await this.store.federation.removeRule(name))) throw missing(`no rule "${name}"`);
  }

  private configured(alias: string): boolean {
    return this.config.federation.issuers.some((i) => i.alias === alias);
  }
}

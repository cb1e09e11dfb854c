import { environmentMixing } from '../access/environments.js';
import { isCidr } from '../access/network.js';
import { isRole, ROLES } from '../access/roles.js';
import type { Config } from '../config/schema.js';
import { groupPrincipal, userPrincipal } from '../identity/directory.js';
import { GROUP_NAME } from '../identity/people/person.js';
import { RULE_PREFIX } from '../identity/federation/service.js';
import { generatePassword, hashPassword, passwordProblem } from '../identity/passwords.js';
import { ROBOT_PREFIX, robotPrincipal } from '../identity/robots.js';
import { isNamespaceName } from '../oci/names.js';
import { rulePrincipal } from '../storage/metadata/federation.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { conflict, invalid, missing, NAME } from './errors.js';

export type AllowlistKind = 'namespace' | 'user' | 'robot' | 'rule';

/** Users, namespaces, role bindings and network allowlists: the administration of people and places. */
export class PeopleAdmin {
  constructor(
    private readonly store: MetadataStore,
    private readonly config: Config,
  ) {}

  /** Creates a user; without a password one is generated and returned (the only time it is shown). */
  async addUser(name: string, password?: string): Promise<{ generated?: string }> {
    if (!NAME.test(name)) throw invalid('user names are 1-64 characters: lower-case letters, digits, ".", "_", "-"');
    const chosen = password ?? generatePassword();
    const problem = passwordProblem(chosen);
    if (problem) throw invalid(problem);
    if (await this.isIssuerAlias(name)) throw conflict(`"${name}" is the alias of a trusted issuer; choose another name`);
    if (await this.store.principals.userByName(name)) throw conflict(`user "${name}" already exists`);
    await this.store.principals.createUser(name, await hashPassword(chosen));

    return password === undefined ? { generated: chosen } : {};
  }

  async users() {
    const [users, rules] = await Promise.all([this.store.principals.listUsers(), this.store.addressRules.all()]);

    return users.map((u) => ({
      name: u.name,
      disabled: u.disabled,
      createdAt: u.createdAt,
      mixedEnvironments: u.mixedEnvironments,
      allowedCidrs: rules.users.get(u.id) ?? null,
    }));
  }

  async setUserDisabled(name: string, disabled: boolean): Promise<void> {
    if (!(await this.store.principals.setDisabled(name, disabled))) throw missing(`no user "${name}"`);
  }

  /** Sets a password; without one, generates it and returns it. */
  async setPassword(name: string, password?: string): Promise<{ generated?: string }> {
    const chosen = password ?? generatePassword();
    const problem = passwordProblem(chosen);
    if (problem) throw invalid(problem);
    if (!(await this.store.principals.setPassword(name, await hashPassword(chosen)))) throw missing(`no user "${name}"`);

    return password === undefined ? { generated: chosen } : {};
  }

  async setMixedEnvironments(name: string, mixed: boolean): Promise<void> {
    if (!(await this.store.principals.setMixedEnvironments(name, mixed))) throw missing(`no user "${name}"`);
  }

  /** Creates a namespace; false when it exists already. */
  async addNamespace(name: string, environment: string | null): Promise<boolean> {
    if (name === '*' || !isNamespaceName(name)) throw invalid(`"${name}" is not a valid namespace name`);
    if (environment !== null && !/^[A-Za-z0-9._-]{1,64}$/.test(environment)) throw invalid('environment labels are 1-64 letters, digits, ".", "_", "-"');

    const existing = (await this.store.principals.listNamespaces()).find((n) => n.name === name);
    if (existing) {
      if (existing.environment !== environment) throw conflict(`namespace ${name} exists already, with environment ${existing.environment ?? '(none)'}`);
      return false;
    }
    await this.refuseNestedMixing(name, environment);

    return this.store.principals.createNamespace(name, environment);
  }

  /**
   * A namespace nested under another is reached by that one's bindings: creating it must not
   * make any credential reach both production and non-production without its exception.
   */
  private async refuseNestedMixing(name: string, environment: string | null): Promise<void> {
    const namespaces = await this.store.principals.listNamespaces();
    if (namespaces.some((n) => n.name === name)) return;
    const labels = new Map<string, string | null>([...namespaces.map((n) => [n.name, n.environment] as const), [name, environment]]);
    const held = new Map<string, string[]>();
    for (const b of await this.bindings()) {
      if (!b.mixedEnvironments && b.namespace !== '*') held.set(b.holder, [...(held.get(b.holder) ?? []), b.namespace]);
    }
    for (const [holder, bound] of held) {
      const problem = environmentMixing(bound, (n) => labels.get(n) ?? null, [...labels.keys()]);
      if (problem) throw conflict(`refusing to create ${name}: ${holder} ${problem}`);
    }
  }

  async namespaces() {
    const [namespaces, rules] = await Promise.all([this.store.principals.listNamespaces(), this.store.addressRules.all()]);
    const cidrs = new Map(rules.namespaces.map((r) => [r.namespace, r.cidrs]));

    return namespaces.map((n) => ({ name: n.name, environment: n.environment, allowedCidrs: cidrs.get(n.name) ?? null, auditFailClosed: n.auditFailClosed }));
  }

  /** Whether the namespace's pulls are refused when their audit record cannot be written first. */
  async setAuditFailClosed(name: string, failClosed: boolean): Promise<void> {
    if (!(await this.store.principals.setAuditFailClosed(name, failClosed))) throw missing(`no namespace "${name}"`);
  }

  /** Sets (or with null, lifts) the networks a namespace or credential may be used from. */
  async setAllowlist(kind: AllowlistKind, name: string, cidrs: string[] | null): Promise<void> {
    if (cidrs !== null) {
      const bad = cidrs.filter((c) => !isCidr(c));
      if (cidrs.length === 0 || bad.length > 0) throw invalid(`not a CIDR: ${bad.join(', ') || '(empty list)'}`);
    }
    const rules = this.store.addressRules;
    const found =
      kind === 'namespace'
        ? await rules.setNamespace(name, cidrs)
        : kind === 'user'
          ? await rules.setUser(name, cidrs)
          : kind === 'robot'
            ? await rules.setRobot(name, cidrs)
            : await rules.setRule(name, cidrs);
    if (!found) throw missing(`no ${kind} "${name}"`);
  }

  /**
   * Binds a user to a role on a namespace (replacing any role it had there). A user may not reach
   * production and non-production namespaces unless an admin allowed it.
   */
  async grant(role: string, userName: string, namespace: string): Promise<void> {
    const principal = await this.bindingTarget(role, userName, namespace);
    const user = await this.store.principals.userByName(userName);
    if (!user?.mixedEnvironments) {
      const labels = new Map((await this.store.principals.listNamespaces()).map((n) => [n.name, n.environment]));
      // The user's groups count: their bindings come with them on every request.
      const holders = new Set([principal, ...(user?.groups ?? []).map(groupPrincipal)]);
      const held = (await this.store.principals.listBindings()).filter((b) => holders.has(b.principal)).map((b) => b.namespace);
      const problem = environmentMixing([...new Set([...held, namespace])], (n) => labels.get(n) ?? null, [...labels.keys()]);
      if (problem) throw conflict(`refusing: ${userName} ${problem}; to allow it, run: portcullis user environments ${userName} --mixed`);
    }
    await this.store.principals.grant(principal, namespace, role);
  }

  async revoke(role: string, userName: string, namespace: string): Promise<void> {
    const principal = await this.bindingTarget(role, userName, namespace);
    if (!(await this.store.principals.revoke(principal, namespace, role))) throw missing(`${userName} has no ${role} binding on ${namespace}`);
  }

  /** Binds a group of the OpenID provider to a role on a namespace; its members inherit it. */
  async grantGroup(role: string, group: string, namespace: string): Promise<void> {
    await this.checkGroupBinding(role, group, namespace, true);
    const labels = new Map((await this.store.principals.listNamespaces()).map((n) => [n.name, n.environment]));
    const held = (await this.store.principals.listBindings()).filter((b) => b.principal === groupPrincipal(group)).map((b) => b.namespace);
    const problem = environmentMixing([...new Set([...held, namespace])], (n) => labels.get(n) ?? null, [...labels.keys()]);
    if (problem) throw conflict(`refusing: group ${group} ${problem}; give production and non-production access through separate groups`);
    await this.store.principals.grant(groupPrincipal(group), namespace, role);
  }

  async revokeGroup(role: string, group: string, namespace: string): Promise<void> {
    await this.checkGroupBinding(role, group, namespace, false);
    if (!(await this.store.principals.revoke(groupPrincipal(group), namespace, role))) throw missing(`group ${group} has no ${role} binding on ${namespace}`);
  }

  /** The bindings held by groups. */
  async groupBindings() {
    const prefix = groupPrincipal('');

    return (await this.store.principals.listBindings())
      .filter((b) => b.principal.startsWith(prefix))
      .map((b) => ({ namespace: b.namespace, role: b.role, group: b.principal.slice(prefix.length) }));
  }

  private async checkGroupBinding(role: string, group: string, namespace: string, namespaceMustExist: boolean): Promise<void> {
    if (!isRole(role)) throw invalid(`role must be one of ${ROLES.join(', ')}`);
    if (!GROUP_NAME.test(group)) throw invalid('group names are 1-128 characters: letters, digits and . _ : @ / - (starting with a letter or digit)');
    if (namespaceMustExist && namespace !== '*' && !(await this.store.principals.listNamespaces()).some((n) => n.name === namespace)) {
      throw missing(`no namespace "${namespace}" (create it with: portcullis namespace create ${namespace})`);
    }
  }

  /** Every binding with the name its holder signs in with, and whether it holds an environment exception. */
  async bindings() {
    const holders = new Map<string, { name: string; kind: string; mixed: boolean }>();
    for (const u of await this.store.principals.listUsers()) holders.set(userPrincipal(u.id), { name: u.name, kind: 'user', mixed: u.mixedEnvironments });
    for (const r of await this.store.robots.list()) holders.set(robotPrincipal(r.id), { name: `${ROBOT_PREFIX}${r.name}`, kind: 'robot', mixed: false });
    for (const r of await this.store.federation.rules()) {
      holders.set(rulePrincipal(r.id), { name: `${RULE_PREFIX}${r.name}`, kind: 'rule', mixed: r.mixedEnvironments });
    }

    return (await this.store.principals.listBindings()).map((b) => {
      const holder = holders.get(b.principal);
      const kind = holder?.kind ?? (b.principal.startsWith(groupPrincipal('')) ? 'group' : 'unknown');

      return { namespace: b.namespace, role: b.role, holder: holder?.name ?? b.principal, kind, mixedEnvironments: holder?.mixed ?? false };
    });
  }

  private async bindingTarget(role: string, userName: string, namespace: string): Promise<string> {
    if (!isRole(role)) throw invalid(`role must be one of ${ROLES.join(', ')}`);
    const user = await this.store.principals.userByName(userName);
    if (!user) throw missing(`no user "${userName}"`);
    if (namespace !== '*' && !(await this.store.principals.listNamespaces()).some((n) => n.name === namespace)) {
      throw missing(`no namespace "${namespace}" (create it with: portcullis namespace create ${namespace})`);
    }

    return userPrincipal(user.id);
  }

  private async isIssuerAlias(name: string): Promise<boolean> {
    return this.config.federation.issuers.some((i) => i.alias === name) || (await this.store.federation.issuers()).some((i) => i.alias === name);
  }
}

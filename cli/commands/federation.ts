import { Command } from 'commander';
import { environmentMixing } from '../../src/access/environments.js';
import { isRole } from '../../src/access/roles.js';
import { issuerSchema } from '../../src/config/schema.js';
import { conditionsProblem } from '../../src/identity/federation/claims.js';
import { RULE_PREFIX } from '../../src/identity/federation/service.js';
import type { Conditions } from '../../src/storage/metadata/index.js';
import { addAllowCommand } from './networks.js';
import { configFrom, print, UsageError, withStore, withStoreOptions, type StoreOptions } from '../context.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

type IssuerOptions = StoreOptions & {
  issuer: string;
  kind: string;
  audience: string[];
  algorithms?: string;
  jwksUri?: string;
  jwksFile?: string;
};

type RuleOptions = StoreOptions & { issuer: string; claim: string[]; grant: string[]; mixedEnvironments?: boolean };

/** `portcullis federation issuer …` and `portcullis federation rule …`. */
export function federationCommand(): Command {
  const federation = new Command('federation').description('trust external workload identities: OIDC issuers, SPIFFE trust domains and their rules');
  federation.addCommand(issuerCommand());
  federation.addCommand(ruleCommand());

  return federation;
}

function issuerCommand(): Command {
  const issuer = new Command('issuer').description('trusted token issuers');

  withStoreOptions(issuer.command('add <alias>'))
    .description('trust an OIDC issuer or a SPIFFE trust domain; workloads sign in as ALIAS with its token as the password')
    .requiredOption('--issuer <iss>', 'the exact iss URL (oidc) or the trust domain name (spiffe)')
    .option('--kind <kind>', 'oidc or spiffe', 'oidc')
    .requiredOption('--audience <aud>', 'an audience tokens must carry (repeatable)', collect)
    .option('--algorithms <list>', 'accepted algorithms, e.g. RS256,ES256')
    .option('--jwks-uri <url>', 'JWKS (oidc) or bundle (spiffe) URL; oidc default: discovery')
    .option('--jwks-file <path>', 'JWKS (oidc) or SPIFFE bundle file, for sites without access to the issuer')
    .action(async (alias: string, options: IssuerOptions) => {
      const parsed = issuerSchema.safeParse({
        alias,
        kind: options.kind,
        issuer: options.issuer,
        audiences: options.audience,
        ...(options.algorithms ? { algorithms: options.algorithms.split(',').map((a) => a.trim()) } : {}),
        ...(options.jwksUri ? { jwksUri: options.jwksUri } : {}),
        ...(options.jwksFile ? { jwksFile: options.jwksFile } : {}),
      });
      if (!parsed.success) {
        const first = parsed.error.issues[0]!;
        throw new UsageError(`${first.path.length > 0 ? `${first.path.join('.')}: ` : ''}${first.message}`);
      }
      const value = parsed.data;
      if (configFrom(options).federation.issuers.some((i) => i.alias === alias)) {
        throw new UsageError(`issuer "${alias}" is defined in the configuration file`);
      }
      const added = await withStore(options, async (store) => {
        if (await store.principals.userByName(alias)) throw new UsageError(`"${alias}" is a user's name; choose another alias`);
        return store.federation.addIssuer({ ...value, jwksUri: value.jwksUri ?? null, jwksFile: value.jwksFile ?? null });
      });
      if (!added) throw new UsageError(`issuer "${alias}" already exists`);
      print(`trusted ${value.kind} issuer ${alias} (${value.issuer}); audiences ${value.audiences.join(', ')}; algorithms ${value.algorithms.join(', ')}`);
    });

  withStoreOptions(issuer.command('list'))
    .description('list trusted issuers, from the configuration file and the store')
    .action(async (options: StoreOptions) => {
      const configured = configFrom(options).federation.issuers.map((i) => ({ ...i, source: 'config' }));
      const stored = (await withStore(options, (store) => store.federation.issuers())).map((i) => ({ ...i, source: 'store' }));
      for (const i of [...configured, ...stored]) {
        const keys = i.jwksFile ? `file ${i.jwksFile}` : i.jwksUri ? `url ${i.jwksUri}` : 'discovery';
        print(`${i.alias}\t${i.kind}\t${i.issuer}\taud ${i.audiences.join(',')}\t${i.algorithms.join(',')}\t${keys}\t${i.source}`);
      }
    });

  withStoreOptions(issuer.command('remove <alias>'))
    .description('stop trusting an issuer (its rules must be removed first)')
    .action(async (alias: string, options: StoreOptions) => {
      const result = await withStore(options, (store) => store.federation.removeIssuer(alias));
      if (result === 'missing') throw new UsageError(`no issuer "${alias}" in the store`);
      if (result === 'in-use') throw new UsageError(`rules still use issuer "${alias}"; remove them first`);
      print(`removed issuer ${alias}`);
    });

  return issuer;
}

/** Reads repeated `--claim path=value`; a path given twice accepts any of its values. */
function conditionsFrom(claims: string[]): Conditions {
  const conditions: Record<string, string[]> = {};
  for (const claim of claims) {
    const eq = claim.indexOf('=');
    if (eq <= 0) throw new UsageError(`--claim must look like name=value, got "${claim}"`);
    (conditions[claim.slice(0, eq)] ??= []).push(claim.slice(eq + 1));
  }
  const simplified: Conditions = Object.fromEntries(Object.entries(conditions).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
  const problem = conditionsProblem(simplified);
  if (problem) throw new UsageError(problem);

  return simplified;
}

function grantsFrom(grants: string[]): Array<{ namespace: string; role: string }> {
  return grants.map((grant) => {
    const eq = grant.indexOf('=');
    const namespace = grant.slice(0, eq);
    const role = grant.slice(eq + 1);
    if (eq <= 0 || !isRole(role) || role === 'admin') {
      throw new UsageError(`--grant must look like NAMESPACE=ROLE with role reader, writer or maintainer, got "${grant}"`);
    }
    if (namespace === '*') throw new UsageError('a federation rule cannot be bound to every namespace (*)');

    return { namespace, role };
  });
}

function ruleCommand(): Command {
  const rule = new Command('rule').description(`rules mapping token claims to bindings (their tokens act as ${RULE_PREFIX}NAME)`);

  withStoreOptions(rule.command('add <name>'))
    .description('add a rule; rules are tried oldest first, and the first whose claims all match decides')
    .requiredOption('--issuer <alias>', 'the issuer whose tokens this rule accepts')
    .requiredOption('--claim <name=value>', 'a claim condition (repeatable); * and ** globs; repeat a name to list values', collect)
    .requiredOption('--grant <namespace=role>', 'a binding for matching workloads (repeatable)', collect)
    .option('--mixed-environments', 'allow bindings in both production and non-production namespaces')
    .action(async (name: string, options: RuleOptions) => {
      if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new UsageError('rule names are 1-64 characters: a-z, 0-9, ".", "_", "-"');
      const conditions = conditionsFrom(options.claim);
      const grants = grantsFrom(options.grant);
      const configured = configFrom(options).federation.issuers.some((i) => i.alias === options.issuer);
      const created = await withStore(options, async (store) => {
        if (!configured && !(await store.federation.issuers()).some((i) => i.alias === options.issuer)) {
          throw new UsageError(`no issuer "${options.issuer}" (add it with: portcullis federation issuer add)`);
        }
        const labels = new Map((await store.principals.listNamespaces()).map((n) => [n.name, n.environment]));
        const unknown = grants.find((g) => !labels.has(g.namespace));
        if (unknown) throw new UsageError(`no namespace "${unknown.namespace}"`);
        const mixing = environmentMixing(grants.map((g) => g.namespace), (n) => labels.get(n) ?? null);
        if (mixing && !options.mixedEnvironments) throw new UsageError(`refusing: rule ${name} ${mixing}; add --mixed-environments to allow it`);
        return store.federation.addRule({ name, issuerAlias: options.issuer, conditions, grants, mixedEnvironments: !!options.mixedEnvironments });
      });
      if (!created) throw new UsageError(`rule "${name}" already exists`);
      print(`added rule ${name}: ${options.issuer} tokens with ${JSON.stringify(conditions)} get ${grants.map((g) => `${g.role} on ${g.namespace}`).join(', ')}`);
    });

  withStoreOptions(rule.command('list'))
    .description('list rules in the order they are tried, with their bindings, last use and state')
    .action(async (options: StoreOptions) => {
      const { rules, bindings } = await withStore(options, async (store) => ({
        rules: await store.federation.rules(),
        bindings: await store.principals.listBindings(),
      }));
      for (const r of rules) {
        const grants = bindings.filter((b) => b.principal === `rule:${r.id}`).map((b) => `${b.namespace}=${b.role}`).join(',');
        const used = r.lastUsedAt === null ? 'never used' : `last used ${new Date(r.lastUsedAt).toISOString()} by ${r.lastUsedSubject} from ${r.lastUsedIp}`;
        const flags = [r.disabled ? 'disabled' : 'enabled', ...(r.mixedEnvironments ? ['mixed-environments'] : []), ...(r.allowedCidrs ? [`from ${r.allowedCidrs.join(',')}`] : [])];
        print(`${r.name}\t${r.issuerAlias}\t${JSON.stringify(r.conditions)}\t${grants}\t${used}\t${flags.join(' ')}`);
      }
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    withStoreOptions(rule.command(`${verb} <name>`))
      .description(`${verb} a rule (takes effect on the next request of its tokens)`)
      .action(async (name: string, options: StoreOptions) => {
        if (!(await withStore(options, (store) => store.federation.setRuleDisabled(name, disabled)))) throw new UsageError(`no rule "${name}"`);
        print(`${verb}d rule ${name}`);
      });
  }

  withStoreOptions(rule.command('remove <name>'))
    .description('delete a rule and its bindings')
    .action(async (name: string, options: StoreOptions) => {
      if (!(await withStore(options, (store) => store.federation.removeRule(name)))) throw new UsageError(`no rule "${name}"`);
      print(`removed rule ${name}`);
    });

  addAllowCommand(rule, 'rule');

  return rule;
}

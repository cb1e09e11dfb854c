import { Command } from 'commander';
import type { Conditions } from '../../src/storage/metadata/index.js';
import { RULE_PREFIX } from '../../src/identity/federation/service.js';
import { addAllowCommand } from './networks.js';
import { print, UsageError, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

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
      const added = await withAdmin(options, (admin) =>
        admin.federation.addIssuer({
          alias,
          kind: options.kind,
          issuer: options.issuer,
          audiences: options.audience,
          ...(options.algorithms ? { algorithms: options.algorithms.split(',').map((a) => a.trim()) } : {}),
          ...(options.jwksUri ? { jwksUri: options.jwksUri } : {}),
          ...(options.jwksFile ? { jwksFile: options.jwksFile } : {}),
        }),
      );
      print(`trusted ${added.kind} issuer ${alias} (${added.issuer}); audiences ${added.audiences.join(', ')}; algorithms ${added.algorithms.join(', ')}`);
    });

  withStoreOptions(issuer.command('list'))
    .description('list trusted issuers, from the configuration file and the store')
    .action(async (options: StoreOptions) => {
      for (const i of await withAdmin(options, (admin) => admin.federation.issuers())) {
        const keys = i.jwksFile ? `file ${i.jwksFile}` : i.jwksUri ? `url ${i.jwksUri}` : 'discovery';
        const source = i.shadowed ? 'store (shadowed by the configuration file)' : i.source;
        print(`${i.alias}\t${i.kind}\t${i.issuer}\taud ${i.audiences.join(',')}\t${i.algorithms.join(',')}\t${keys}\t${source}`);
      }
    });

  withStoreOptions(issuer.command('remove <alias>'))
    .description('stop trusting an issuer (its rules must be removed first)')
    .action(async (alias: string, options: StoreOptions) => {
      await withAdmin(options, (admin) => admin.federation.removeIssuer(alias));
      print(`removed issuer ${alias}`);
    });

  return issuer;
}

/** Reads repeated `--claim path=value`; a path given twice accepts any of its values. */
function conditionsFrom(claims: string[]): Conditions {
  const conditions: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const claim of claims) {
    const eq = claim.indexOf('=');
    if (eq <= 0) throw new UsageError(`--claim must look like name=value, got "${claim}"`);
    (conditions[claim.slice(0, eq)] ??= []).push(claim.slice(eq + 1));
  }

  return Object.fromEntries(Object.entries(conditions).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
}

function grantsFrom(grants: string[]): Array<{ namespace: string; role: string }> {
  return grants.map((grant) => {
    const eq = grant.indexOf('=');
    if (eq <= 0) throw new UsageError(`--grant must look like NAMESPACE=ROLE, got "${grant}"`);

    return { namespace: grant.slice(0, eq), role: grant.slice(eq + 1) };
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
      const conditions = conditionsFrom(options.claim);
      const grants = grantsFrom(options.grant);
      await withAdmin(options, (admin) =>
        admin.federation.addRule({ name, issuer: options.issuer, conditions, grants, mixedEnvironments: options.mixedEnvironments }),
      );
      print(`added rule ${name}: ${options.issuer} tokens with ${JSON.stringify(conditions)} get ${grants.map((g) => `${g.role} on ${g.namespace}`).join(', ')}`);
    });

  withStoreOptions(rule.command('list'))
    .description('list rules in the order they are tried, with their bindings, last use and state')
    .action(async (options: StoreOptions) => {
      for (const r of await withAdmin(options, (admin) => admin.federation.rules())) {
        const grants = r.grants.map((g) => `${g.namespace}=${g.role}`).join(',');
        const used = r.lastUsedAt === null ? 'never used' : `last used ${new Date(r.lastUsedAt).toISOString()} by ${r.lastUsedSubject} from ${r.lastUsedIp}`;
        const flags = [r.disabled ? 'disabled' : 'enabled', ...(r.mixedEnvironments ? ['mixed-environments'] : []), ...(r.allowedCidrs ? [`from ${r.allowedCidrs.join(',')}`] : [])];
        print(`${r.name}\t${r.issuer}\t${JSON.stringify(r.conditions)}\t${grants}\t${used}\t${flags.join(' ')}`);
      }
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    withStoreOptions(rule.command(`${verb} <name>`))
      .description(`${verb} a rule (takes effect on the next request of its tokens)`)
      .action(async (name: string, options: StoreOptions) => {
        await withAdmin(options, (admin) => admin.federation.setRuleDisabled(name, disabled));
        print(`${verb}d rule ${name}`);
      });
  }

  withStoreOptions(rule.command('remove <name>'))
    .description('delete a rule and its bindings')
    .action(async (name: string, options: StoreOptions) => {
      await withAdmin(options, (admin) => admin.federation.removeRule(name));
      print(`removed rule ${name}`);
    });

  addAllowCommand(rule, 'rule');

  return rule;
}

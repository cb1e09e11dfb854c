import type { Command } from 'commander';
import { isCidr } from '../../src/access/network.js';
import { print, UsageError, withStore, withStoreOptions, type StoreOptions } from '../context.js';

type AllowOptions = StoreOptions & { cidr?: string; anywhere?: boolean };

function cidrsFrom(options: AllowOptions): string[] | null {
  if ((options.cidr === undefined) === (options.anywhere === undefined)) {
    throw new UsageError('give exactly one of --cidr LIST or --anywhere');
  }
  if (options.anywhere) return null;
  const cidrs = options.cidr!.split(',').map((c) => c.trim()).filter(Boolean);
  const bad = cidrs.filter((c) => !isCidr(c));
  if (cidrs.length === 0 || bad.length > 0) throw new UsageError(`not a CIDR: ${bad.join(', ') || '(empty list)'}`);

  return cidrs;
}

/**
 * Adds `allow NAME --cidr LIST | --anywhere` under `namespace`, `user`, `robot` or `rule`: the
 * networks from which the namespace's repositories, or the credential, may be used.
 */
export function addAllowCommand(parent: Command, kind: 'namespace' | 'user' | 'robot' | 'rule'): void {
  withStoreOptions(parent.command('allow <name>'))
    .description(`set the networks the ${kind === 'namespace' ? "namespace's repositories" : `${kind}'s credentials`} may be used from`)
    .option('--cidr <list>', 'comma-separated CIDRs, e.g. 10.0.0.0/8,2001:db8::/32')
    .option('--anywhere', 'remove the restriction')
    .action(async (name: string, options: AllowOptions) => {
      const cidrs = cidrsFrom(options);
      const found = await withStore(options, (store) => {
        const rules = store.addressRules;
        if (kind === 'namespace') return rules.setNamespace(name, cidrs);
        if (kind === 'user') return rules.setUser(name, cidrs);
        return kind === 'robot' ? rules.setRobot(name, cidrs) : rules.setRule(name, cidrs);
      });
      if (!found) throw new UsageError(`no ${kind} "${name}"`);
      print(cidrs ? `${kind} ${name} may be used from ${cidrs.join(', ')}` : `${kind} ${name} may be used from anywhere`);
    });
}

import type { Command } from 'commander';
import type { AllowlistKind } from '../../src/admin/index.js';
import { print, UsageError, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

type AllowOptions = StoreOptions & { cidr?: string; anywhere?: boolean };

function cidrsFrom(options: AllowOptions): string[] | null {
  if ((options.cidr === undefined) === (options.anywhere === undefined)) {
    throw new UsageError('give exactly one of --cidr LIST or --anywhere');
  }

  return options.anywhere ? null : options.cidr!.split(',').map((c) => c.trim()).filter(Boolean);
}

/**
 * Adds `allow NAME --cidr LIST | --anywhere` under `namespace`, `user`, `robot` or `rule`: the
 * networks from which the namespace's repositories, or the credential, may be used.
 */
export function addAllowCommand(parent: Command, kind: AllowlistKind): void {
  withStoreOptions(parent.command('allow <name>'))
    .description(`set the networks the ${kind === 'namespace' ? "namespace's repositories" : `${kind}'s credentials`} may be used from`)
    .option('--cidr <list>', 'comma-separated CIDRs, e.g. 10.0.0.0/8,2001:db8::/32')
    .option('--anywhere', 'remove the restriction')
    .action(async (name: string, options: AllowOptions) => {
      const cidrs = cidrsFrom(options);
      await withAdmin(options, (admin) => admin.people.setAllowlist(kind, name, cidrs));
      print(cidrs ? `${kind} ${name} may be used from ${cidrs.join(', ')}` : `${kind} ${name} may be used from anywhere`);
    });
}

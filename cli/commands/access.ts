import { Command } from 'commander';
import { ROLES } from '../../src/access/roles.js';
import { addAllowCommand } from './networks.js';
import { print, UsageError, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

/** `portcullis namespace create|list|allow`. */
export function namespaceCommand(): Command {
  const namespace = new Command('namespace').description('manage namespaces (repository path prefixes)');

  withStoreOptions(namespace.command('create <name>'))
    .description('create a namespace, e.g. "team" for team/app, team/tools/…')
    .option('--environment <label>', 'environment label such as build, test or prod')
    .action(async (name: string, options: StoreOptions & { environment?: string }) => {
      const created = await withAdmin(options, (admin) => admin.people.addNamespace(name, options.environment ?? null));
      print(created ? `created namespace ${name}` : `namespace ${name} already exists`);
    });

  addAllowCommand(namespace, 'namespace');

  withStoreOptions(namespace.command('audit <name>'))
    .description('--fail-closed: refuse a pull whose audit record cannot be written first; --fail-open: the default')
    .option('--fail-closed', 'record each pull before serving it, and refuse it when that fails')
    .option('--fail-open', 'record pulls within a second, serving them even while the audit store fails')
    .action(async (name: string, options: StoreOptions & { failClosed?: boolean; failOpen?: boolean }) => {
      if (Boolean(options.failClosed) === Boolean(options.failOpen)) throw new UsageError('give exactly one of --fail-closed or --fail-open');
      await withAdmin(options, (admin) => admin.people.setAuditFailClosed(name, Boolean(options.failClosed)));
      print(options.failClosed ? `pulls from ${name} are refused unless recorded first` : `pulls from ${name} are recorded within a second`);
    });

  withStoreOptions(namespace.command('list'))
    .description('list namespaces')
    .action(async (options: StoreOptions) => {
      for (const n of await withAdmin(options, (admin) => admin.people.namespaces())) {
        print(`${n.name}\t${n.environment ?? '-'}${n.auditFailClosed ? '\taudit-fail-closed' : ''}`);
      }
    });

  return namespace;
}

/** `portcullis grant ROLE USER NAMESPACE`. */
export function grantCommand(): Command {
  return withStoreOptions(new Command('grant'))
    .argument('<role>', ROLES.join('|'))
    .argument('<user>')
    .argument('<namespace>', 'namespace name, or * for every repository')
    .description('bind a user to a role on a namespace (replaces any role it had there)')
    .action(async (role: string, userName: string, namespace: string, options: StoreOptions) => {
      await withAdmin(options, (admin) => admin.people.grant(role, userName, namespace));
      print(`granted ${role} on ${namespace} to ${userName}`);
    });
}

/** `portcullis revoke ROLE USER NAMESPACE`. */
export function revokeCommand(): Command {
  return withStoreOptions(new Command('revoke'))
    .argument('<role>', ROLES.join('|'))
    .argument('<user>')
    .argument('<namespace>')
    .description("remove a user's role on a namespace (takes effect on the user's next request)")
    .action(async (role: string, userName: string, namespace: string, options: StoreOptions) => {
      await withAdmin(options, (admin) => admin.people.revoke(role, userName, namespace));
      print(`revoked ${role} on ${namespace} from ${userName}`);
    });
}

/** `portcullis bindings`: who holds which role where. */
export function bindingsCommand(): Command {
  return withStoreOptions(new Command('bindings'))
    .description('list role bindings of users, robots and federation rules')
    .action(async (options: StoreOptions) => {
      for (const b of await withAdmin(options, (admin) => admin.people.bindings())) {
        print(`${b.namespace}\t${b.role}\t${b.holder}${b.mixedEnvironments ? '\tmixed-environments' : ''}`);
      }
    });
}

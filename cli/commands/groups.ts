import { Command } from 'commander';
import { ROLES } from '../../src/access/roles.js';
import { print, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

/**
 * `portcullis group grant|revoke|list`: bindings held by a group of the OpenID provider. People
 * who sign in through it get their groups' bindings on top of their own.
 */
export function groupCommand(): Command {
  const group = new Command('group').description("manage the bindings of the OpenID provider's groups");

  withStoreOptions(group.command('grant'))
    .argument('<role>', ROLES.join('|'))
    .argument('<group>', 'group name as the provider sends it in the groups claim')
    .argument('<namespace>', 'namespace name, or * for every repository')
    .description('bind a group to a role on a namespace (replaces any role it had there)')
    .action(async (role: string, name: string, namespace: string, options: StoreOptions) => {
      await withAdmin(options, (admin) => admin.people.grantGroup(role, name, namespace));
      print(`granted ${role} on ${namespace} to group ${name}`);
    });

  withStoreOptions(group.command('revoke'))
    .argument('<role>', ROLES.join('|'))
    .argument('<group>')
    .argument('<namespace>')
    .description("remove a group's role on a namespace (takes effect on its members' next request)")
    .action(async (role: string, name: string, namespace: string, options: StoreOptions) => {
      await withAdmin(options, (admin) => admin.people.revokeGroup(role, name, namespace));
      print(`revoked ${role} on ${namespace} from group ${name}`);
    });

  withStoreOptions(group.command('list'))
    .description('list the bindings of groups')
    .action(async (options: StoreOptions) => {
      for (const b of await withAdmin(options, (admin) => admin.people.groupBindings())) print(`${b.namespace}\t${b.role}\t${b.group}`);
    });

  return group;
}

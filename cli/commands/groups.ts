import { Command } from 'commander';
import { isRole, ROLES } from '../../src/access/roles.js';
import { groupPrincipal } from '../../src/identity/directory.js';
import { GROUP_NAME } from '../../src/identity/people/person.js';
import type { MetadataStore } from '../../src/storage/metadata/index.js';
import { print, UsageError, withStore, withStoreOptions, type StoreOptions } from '../context.js';

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
    .description("bind a group to a role on a namespace (replaces any role it had there)")
    .action(async (role: string, name: string, namespace: string, options: StoreOptions) => {
      await withStore(options, async (store) => {
        await check(store, role, name, namespace);
        await store.principals.grant(groupPrincipal(name), namespace, role);
      });
      print(`granted ${role} on ${namespace} to group ${name}`);
    });

  withStoreOptions(group.command('revoke'))
    .argument('<role>', ROLES.join('|'))
    .argument('<group>')
    .argument('<namespace>')
    .description("remove a group's role on a namespace (takes effect on its members' next request)")
    .action(async (role: string, name: string, namespace: string, options: StoreOptions) => {
      const gone = await withStore(options, async (store) => {
        await check(store, role, name, namespace, false);
        return store.principals.revoke(groupPrincipal(name), namespace, role);
      });
      if (!gone) throw new UsageError(`group ${name} has no ${role} binding on ${namespace}`);
      print(`revoked ${role} on ${namespace} from group ${name}`);
    });

  withStoreOptions(group.command('list'))
    .description('list the bindings of groups')
    .action(async (options: StoreOptions) => {
      const bindings = await withStore(options, (store) => store.principals.listBindings());
      const prefix = groupPrincipal('');
      for (const b of bindings.filter((x) => x.principal.startsWith(prefix))) print(`${b.namespace}\t${b.role}\t${b.principal.slice(prefix.length)}`);
    });

  return group;
}

async function check(store: MetadataStore, role: string, name: string, namespace: string, mustExist = true): Promise<void> {
  if (!isRole(role)) throw new UsageError(`role must be one of ${ROLES.join(', ')}`);
  if (!GROUP_NAME.test(name)) throw new UsageError('group names are 1-128 characters: letters, digits and . _ : @ / - (starting with a letter or digit)');
  if (mustExist && namespace !== '*' && !(await store.principals.listNamespaces()).some((n) => n.name === namespace)) {
    throw new UsageError(`no namespace "${namespace}" (create it with: portcullis namespace create ${namespace})`);
  }
}

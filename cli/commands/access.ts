import { Command } from 'commander';
import { environmentMixing } from '../../src/access/environments.js';
import { isRole, ROLES } from '../../src/access/roles.js';
import { userPrincipal } from '../../src/identity/directory.js';
import { RULE_PREFIX } from '../../src/identity/federation/service.js';
import { ROBOT_PREFIX, robotPrincipal } from '../../src/identity/robots.js';
import { rulePrincipal } from '../../src/storage/metadata/federation.js';
import { isNamespaceName } from '../../src/oci/names.js';
import type { MetadataStore } from '../../src/storage/metadata/index.js';
import { addAllowCommand } from './networks.js';
import { print, UsageError, withStore, withStoreOptions, type StoreOptions } from '../context.js';

/** `portcullis namespace create|list`. */
export function namespaceCommand(): Command {
  const namespace = new Command('namespace').description('manage namespaces (repository path prefixes)');

  withStoreOptions(namespace.command('create <name>'))
    .description('create a namespace, e.g. "team" for team/app, team/tools/…')
    .option('--environment <label>', 'environment label such as build, test or prod')
    .action(async (name: string, options: StoreOptions & { environment?: string }) => {
      if (name === '*' || !isNamespaceName(name)) throw new UsageError(`"${name}" is not a valid namespace name`);
      const created = await withStore(options, (store) => store.principals.createNamespace(name, options.environment ?? null));
      print(created ? `created namespace ${name}` : `namespace ${name} already exists`);
    });

  addAllowCommand(namespace, 'namespace');

  withStoreOptions(namespace.command('list'))
    .description('list namespaces')
    .action(async (options: StoreOptions) => {
      const rows = await withStore(options, (store) => store.principals.listNamespaces());
      for (const n of rows) print(`${n.name}\t${n.environment ?? '-'}`);
    });

  return namespace;
}

async function resolveBinding(store: MetadataStore, role: string, userName: string, namespace: string) {
  if (!isRole(role)) throw new UsageError(`role must be one of ${ROLES.join(', ')}`);
  const user = await store.principals.userByName(userName);
  if (!user) throw new UsageError(`no user "${userName}"`);
  if (namespace !== '*' && !(await store.principals.listNamespaces()).some((n) => n.name === namespace)) {
    throw new UsageError(`no namespace "${namespace}" (create it with: portcullis namespace create ${namespace})`);
  }

  return userPrincipal(user.id);
}

/** A user may not reach production and non-production namespaces unless an admin allowed it. */
async function refuseEnvironmentMixing(store: MetadataStore, userName: string, principal: string, namespace: string) {
  const user = await store.principals.userByName(userName);
  if (user?.mixedEnvironments) return;
  const labels = new Map((await store.principals.listNamespaces()).map((n) => [n.name, n.environment]));
  const held = (await store.principals.listBindings()).filter((b) => b.principal === principal).map((b) => b.namespace);
  const problem = environmentMixing([...new Set([...held, namespace])], (n) => labels.get(n) ?? null);
  if (problem) {
    throw new UsageError(
      `refusing: ${userName} ${problem}; to allow it, run: portcullis user environments ${userName} --mixed`,
    );
  }
}

/** `portcullis grant ROLE USER NAMESPACE`. */
export function grantCommand(): Command {
  return withStoreOptions(new Command('grant'))
    .argument('<role>', ROLES.join('|'))
    .argument('<user>')
    .argument('<namespace>', 'namespace name, or * for every repository')
    .description('bind a user to a role on a namespace (replaces any role it had there)')
    .action(async (role: string, userName: string, namespace: string, options: StoreOptions) => {
      await withStore(options, async (store) => {
        const principal = await resolveBinding(store, role, userName, namespace);
        await refuseEnvironmentMixing(store, userName, principal, namespace);
        await store.principals.grant(principal, namespace, role);
      });
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
      const removed = await withStore(options, async (store) => {
        const principal = await resolveBinding(store, role, userName, namespace);
        return store.principals.revoke(principal, namespace, role);
      });
      if (!removed) throw new UsageError(`${userName} has no ${role} binding on ${namespace}`);
      print(`revoked ${role} on ${namespace} from ${userName}`);
    });
}

/** `portcullis bindings`: who holds which role where. */
export function bindingsCommand(): Command {
  return withStoreOptions(new Command('bindings'))
    .description('list role bindings')
    .action(async (options: StoreOptions) => {
      const rows = await withStore(options, async (store) => {
        const users = new Map((await store.principals.listUsers()).map((u) => [userPrincipal(u.id), u]));
        const others = new Map<string, { name: string; mixed: boolean }>([
          ...(await store.robots.list()).map((r) => [robotPrincipal(r.id), { name: `${ROBOT_PREFIX}${r.name}`, mixed: false }] as const),
          ...(await store.federation.rules()).map((r) => [rulePrincipal(r.id), { name: `${RULE_PREFIX}${r.name}`, mixed: r.mixedEnvironments }] as const),
        ]);
        return (await store.principals.listBindings()).map((b) => {
          const user = users.get(b.principal);
          const other = others.get(b.principal);

          return { ...b, who: user?.name ?? other?.name ?? b.principal, mixed: user?.mixedEnvironments ?? other?.mixed ?? false };
        });
      });
      for (const b of rows) print(`${b.namespace}\t${b.role}\t${b.who}${b.mixed ? '\tmixed-environments' : ''}`);
    });
}

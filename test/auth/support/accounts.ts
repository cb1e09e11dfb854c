import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../../src/identity/passwords.js';
import { userPrincipal } from '../../../src/identity/directory.js';
import { openMetadataStore, type MetadataStore } from '../../../src/storage/metadata/index.js';
import type { TestRegistry } from '../../helpers/registry.js';

export type Role = 'reader' | 'writer' | 'maintainer' | 'admin';

export interface Account {
  name: string;
  password: string;
  principal: string;
}

/**
 * Opens a second connection to the registry's metadata store, the way the CLI does, so that
 * changes reach the server only through the store's change feed.
 */
export function openStore(registry: TestRegistry): Promise<MetadataStore> {
  return openMetadataStore(registry.config.database, registry.dataDir);
}

/** Runs `work` on a second store connection and closes it again. */
export async function withStore<T>(
  registry: TestRegistry,
  work: (store: MetadataStore) => Promise<T>,
): Promise<T> {
  const store = await openStore(registry);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Creates a user with a random password and the given bindings (namespaces created as needed). */
export async function addUser(
  registry: TestRegistry,
  name: string,
  bindings: ReadonlyArray<[namespace: string, role: Role]> = [],
): Promise<Account> {
  const password = `pw-${randomBytes(12).toString('hex')}`;

  return withStore(registry, async (store) => {
    const user = await store.principals.createUser(name, await hashPassword(password));
    const principal = userPrincipal(user.id);
    for (const [namespace, role] of bindings) {
      if (namespace !== '*') await store.principals.createNamespace(namespace, null);
      await store.principals.grant(principal, namespace, role);
    }

    return { name, password, principal };
  });
}

/** Creates namespaces (for repositories an attacker must not see). */
export async function createNamespaces(
  registry: TestRegistry,
  names: readonly string[],
): Promise<void> {
  await withStore(registry, async (store) => {
    for (const name of names) await store.principals.createNamespace(name, null);
  });
}

export async function grant(
  registry: TestRegistry,
  account: Account,
  namespace: string,
  role: Role,
): Promise<void> {
  await withStore(registry, async (store) => {
    if (namespace !== '*') await store.principals.createNamespace(namespace, null);
    await store.principals.grant(account.principal, namespace, role);
  });
}

export async function revoke(
  registry: TestRegistry,
  account: Account,
  namespace: string,
): Promise<void> {
  await withStore(registry, async (store) => {
    await store.principals.revoke(account.principal, namespace);
  });
}

export async function setDisabled(
  registry: TestRegistry,
  account: Account,
  disabled: boolean,
): Promise<void> {
  await withStore(registry, async (store) => {
    await store.principals.setDisabled(account.name, disabled);
  });
}

/** Gives the account a new random password, as `portcullis user passwd` does. */
export async function changePassword(registry: TestRegistry, account: Account): Promise<Account> {
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await withStore(registry, async (store) => {
    await store.principals.setPassword(account.name, await hashPassword(password));
  });

  return { ...account, password };
}

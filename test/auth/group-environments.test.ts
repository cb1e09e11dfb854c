import path from 'node:path';
import SQLite from 'better-sqlite3';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/admin/index.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, withStore } from './support/accounts.js';
import { tokenFor } from './support/http.js';

/**
 * Regression: bindings that came through the OpenID provider's groups got around the
 * production/non-production separation (one group on both sides, or two groups, one each).
 */
describe('environment separation with group bindings', () => {
  let registry: TestRegistry;
  const admin = <T>(work: (a: Admin) => Promise<T>) => withStore(registry, (store) => work(new Admin(store, registry.config)));

  beforeAll(async () => {
    registry = await startRegistry();
    await admin(async (a) => {
      await a.people.addNamespace('shop', 'prod');
      await a.people.addNamespace('shop-dev', 'dev');
    });
  });
  afterAll(() => registry.close());

  it('refuses to give one group both sides', async () => {
    await admin((a) => a.people.grantGroup('writer', 'devs', 'shop-dev'));
    await expect(admin((a) => a.people.grantGroup('writer', 'devs', 'shop'))).rejects.toThrow(
      'refusing: group devs would reach production (shop) and non-production (shop-dev) namespaces; give production and non-production access through separate groups',
    );
  });

  it('gives a person in a production and a non-production group only their own bindings, unless excepted', async () => {
    await admin((a) => a.people.grantGroup('reader', 'prod-team', 'shop'));
    const pete = await addUser(registry, 'pete');
    const db = new SQLite(path.join(registry.dataDir, 'portcullis.db'));
    try {
      db.prepare('UPDATE users SET groups = ? WHERE name = ?').run(JSON.stringify(['devs', 'prod-team']), 'pete');
    } finally {
      db.close();
    }
    const access = async () => decodeJwt(await tokenFor(registry, pete, ['repository:shop/app:pull', 'repository:shop-dev/app:pull'])).access;
    expect(await access()).toEqual([]);
    await expect(admin((a) => a.people.grant('reader', 'pete', 'shop'))).rejects.toThrow(/would reach production \(shop\) and non-production \(shop-dev\)/);

    await admin((a) => a.people.setMixedEnvironments('pete', true));
    expect(await access()).toEqual([
      { type: 'repository', name: 'shop/app', actions: ['pull'] },
      { type: 'repository', name: 'shop-dev/app', actions: ['pull'] },
    ]);
  });
});

describe('token revoke --user and one-time sign-in codes', () => {
  it('voids the codes the person has not redeemed yet (regression: a code minted a refresh token after the cut)', async () => {
    const registry = await startRegistry();
    try {
      const bob = await addUser(registry, 'bob');
      const user = await withStore(registry, (store) => store.principals.userByName(bob.name));
      await withStore(registry, (store) => store.principals.people.saveLoginCode('code-hash', user!.id, 'challenge', Date.now() + 60_000));
      await withStore(registry, (store) => new Admin(store, registry.config).credentials.revoke({ user: 'bob', actor: 'test' }));
      expect(await withStore(registry, (store) => store.principals.people.redeemLoginCode('code-hash', Date.now()))).toBeUndefined();
    } finally {
      await registry.close();
    }
  });
});

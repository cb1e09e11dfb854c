import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PrincipalStore } from '../../../src/storage/metadata/principals.js';
import {
  FEED_DEADLINE_MS,
  type MetadataHarness,
  type MetadataSuiteOptions,
} from '../metadata-suite.js';

/** PrincipalStore and change-feed cases of the metadata conformance suite. */
export function principalCases(
  current: () => MetadataHarness,
  options: MetadataSuiteOptions,
): void {
  const principals = () => current().store.principals;

  /** A PrincipalStore on a second connection to the same database. */
  const elsewhere = async () => new PrincipalStore(await current().connectAgain());

  const key = (kid: string, createdAt = Date.now()) => ({
    kid,
    privateJwk: JSON.stringify({ kty: 'EC', kid, d: randomBytes(8).toString('hex') }),
    publicJwk: JSON.stringify({ kty: 'EC', kid }),
    createdAt,
  });

  describe('users', () => {
    it('createUser returns the record; userByName and userById find it', async () => {
      const before = Date.now();
      const user = await principals().createUser('alice', 'hash-1');

      expect(user).toMatchObject({ name: 'alice', passwordHash: 'hash-1', disabled: false });
      expect(user.id).toMatch(/\S{8,}/);
      expect(user.createdAt).toBeGreaterThanOrEqual(before);
      expect(await principals().userByName('alice')).toEqual(user);
      expect(await principals().userById(user.id)).toEqual(user);
      expect(await principals().userByName('bob')).toBeUndefined();
      expect(await principals().userById('no-such-id')).toBeUndefined();
    });

    it('user names are unique', async () => {
      await principals().createUser('alice', 'hash-1');

      await expect(principals().createUser('alice', 'hash-2')).rejects.toThrow();
      expect(await principals().countUsers()).toBe(1);
    });

    it('listUsers is sorted by name and countUsers counts them', async () => {
      expect(await principals().countUsers()).toBe(0);
      for (const name of ['carol', 'alice', 'bob']) await principals().createUser(name, 'h');

      expect((await principals().listUsers()).map((u) => u.name)).toEqual([
        'alice',
        'bob',
        'carol',
      ]);
      expect(await principals().countUsers()).toBe(3);
    });

    it('setDisabled disables and enables; an unknown user is reported', async () => {
      await principals().createUser('alice', 'h');

      expect(await principals().setDisabled('alice', true)).toBe(true);
      expect((await principals().userByName('alice'))?.disabled).toBe(true);
      expect(await principals().setDisabled('alice', false)).toBe(true);
      expect((await principals().userByName('alice'))?.disabled).toBe(false);
      expect(await principals().setDisabled('nobody', true)).toBe(false);
    });

    it('setPassword replaces the hash and ends the refresh tokens issued under the old one', async () => {
      const alice = await principals().createUser('alice', 'old');
      const bob = await principals().createUser('bob', 'h');
      await principals().saveRefreshToken('alice-token', alice.id, Date.now() + 60_000);
      await principals().saveRefreshToken('bob-token', bob.id, Date.now() + 60_000);

      expect(await principals().setPassword('alice', 'new')).toBe(true);
      expect((await principals().userByName('alice'))?.passwordHash).toBe('new');
      expect(await principals().refreshTokenUser('alice-token', Date.now())).toBeUndefined();
      expect(await principals().refreshTokenUser('bob-token', Date.now())).toBe(bob.id);
      expect(await principals().setPassword('nobody', 'new')).toBe(false);
    });
  });

  describe('namespaces and bindings', () => {
    it('createNamespace creates once; listNamespaces is sorted and keeps the environment', async () => {
      expect(await principals().createNamespace('team', 'prod')).toBe(true);
      expect(await principals().createNamespace('team', 'test')).toBe(false);
      expect(await principals().createNamespace('apps', null)).toBe(true);

      const listed = await principals().listNamespaces();
      expect(listed.map(({ name, environment }) => ({ name, environment }))).toEqual([
        { name: 'apps', environment: null },
        { name: 'team', environment: 'prod' },
      ]);
      expect(listed[0]!.createdAt).toBeGreaterThan(0);
    });

    it('grant binds a role and a second grant on the same namespace replaces it', async () => {
      await principals().grant('user:a', 'team', 'reader');
      await principals().grant('user:a', 'team', 'maintainer');
      await principals().grant('user:a', 'apps', 'writer');
      await principals().grant('user:b', '*', 'admin');

      const rows = (await principals().listBindings()).map(({ principal, namespace, role }) => ({
        principal,
        namespace,
        role,
      }));
      expect(rows).toEqual([
        { principal: 'user:b', namespace: '*', role: 'admin' },
        { principal: 'user:a', namespace: 'apps', role: 'writer' },
        { principal: 'user:a', namespace: 'team', role: 'maintainer' },
      ]);
    });

    it('revoke without a role removes the binding; with a role only when it matches', async () => {
      await principals().grant('user:a', 'team', 'writer');
      await principals().grant('user:a', 'apps', 'writer');

      expect(await principals().revoke('user:a', 'team', 'reader')).toBe(false);
      expect(await principals().listBindings()).toHaveLength(2);
      expect(await principals().revoke('user:a', 'team', 'writer')).toBe(true);
      expect(await principals().revoke('user:a', 'apps')).toBe(true);
      expect(await principals().revoke('user:a', 'apps')).toBe(false);
      expect(await principals().listBindings()).toEqual([]);
    });
  });

  describe('refresh tokens', () => {
    it('a stored token names its user until it expires', async () => {
      const now = Date.now();
      await principals().saveRefreshToken('hash-live', 'user-1', now + 60_000);
      await principals().saveRefreshToken('hash-old', 'user-2', now - 1);

      expect(await principals().refreshTokenUser('hash-live', now)).toBe('user-1');
      expect(await principals().refreshTokenUser('hash-live', now + 60_000)).toBeUndefined();
      expect(await principals().refreshTokenUser('hash-old', now)).toBeUndefined();
      expect(await principals().refreshTokenUser('hash-unknown', now)).toBeUndefined();
    });

    it('a token hash is stored once', async () => {
      await principals().saveRefreshToken('hash-1', 'user-1', Date.now() + 1000);

      await expect(
        principals().saveRefreshToken('hash-1', 'user-2', Date.now() + 1000),
      ).rejects.toThrow();
    });
  });

  describe('signing keys', () => {
    it('the first key written wins; later writers get it back', async () => {
      expect(await principals().signingKeys()).toEqual([]);
      const first = key('kid-first', 1000);
      const stored = await principals().addSigningKeyIfNone(first);
      const again = await principals().addSigningKeyIfNone(key('kid-second', 2000));

      expect(stored).toEqual([{ ...first, retiredAt: null }]);
      expect(again).toEqual(stored);
      expect(await principals().signingKeys()).toEqual(stored);
    });

    // Engines whose connections cannot race inside one process check this across processes
    // in their own test file instead (see MetadataSuiteOptions).
    if (options.concurrentConnections) {
      it('connections racing on an empty store all end up with the same single key', async () => {
        const others = [await elsewhere(), await elsewhere(), await elsewhere()];
        const results = await Promise.all([
          principals().addSigningKeyIfNone(key('kid-0')),
          ...others.map((p, i) => p.addSigningKeyIfNone(key(`kid-${i + 1}`))),
        ]);

        expect(results[0]).toHaveLength(1);
        for (const r of results) expect(r).toEqual(results[0]);
        expect(await principals().signingKeys()).toEqual(results[0]);
      });
    }
  });

  describe('change feed', () => {
    it('the generation stays put while nothing changes', async () => {
      const first = current().store.changes.generation();
      await principals().listUsers();

      expect(current().store.changes.generation()).toBe(first);
    });

    it('the generation moves after a change made through this store', async () => {
      const before = current().store.changes.generation();
      await principals().grant('user:a', 'team', 'reader');

      expect(current().store.changes.generation()).not.toBe(before);
    });

    it('the generation moves after a change made through another connection', async () => {
      const other = await elsewhere();
      for (const change of [
        () => other.createUser('mallory', 'h'),
        () => other.setDisabled('mallory', true),
        () => other.grant('user:m', 'team', 'writer'),
        () => other.revoke('user:m', 'team'),
      ]) {
        const before = current().store.changes.generation();
        await change();
        const deadline = Date.now() + FEED_DEADLINE_MS;
        while (current().store.changes.generation() === before && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }

        expect(current().store.changes.generation()).not.toBe(before);
      }
    });

    it('a second connection sees committed data at once', async () => {
      await principals().createUser('alice', 'h');
      const other = await elsewhere();

      expect((await other.userByName('alice'))?.name).toBe('alice');
      await expect(current().store.ping()).resolves.toBeUndefined();
    });
  });
}

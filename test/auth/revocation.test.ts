import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  addUser,
  changePassword,
  grant,
  revoke,
  setDisabled,
  type Account,
} from './support/accounts.js';
import {
  bearerChallenge,
  call,
  errorCode,
  eventually,
  postToken,
  requestToken,
  tokenFor,
} from './support/http.js';

const usePostgres = await postgresAvailable();

/**
 * Changes made through a second connection to the store (as the CLI makes them) must bite on
 * the very next request that carries an already issued, still unexpired token.
 *
 * SQLite: the server sees another connection's commit through `PRAGMA data_version`, so the
 * next request is asserted with no waiting at all. PostgreSQL: the change travels as a
 * LISTEN/NOTIFY message, which arrives asynchronously, so each check first polls for up to
 * one second for the notification and then asserts.
 */
describe.each([
  ['sqlite', false],
  ['postgres', true],
] as const)('revocation on %s', (engine, async) => {
  let registry: TestRegistry;
  let carol: Account;
  const TAGS = '/v2/team/app/tags/list';

  beforeAll(async () => {
    if (engine === 'postgres' && !usePostgres) return;
    registry = await startRegistry({ engine });
    await new RegistryClient(registry.url, 'admin', registry.adminPassword).pushImage(
      'team/app',
      'v1',
    );
    carol = await addUser(registry, 'carol', [['team', 'writer']]);
  });
  afterAll(async () => {
    await registry?.close();
  });

  /** The status of the next request; on PostgreSQL, after waiting up to 1 s for `expected`. */
  const nextStatus = async (send: () => Promise<Response>, expected: number): Promise<number> => {
    if (async) await eventually(async () => (await send()).status === expected, 1000);

    return (await send()).status;
  };

  it.skipIf(engine === 'postgres' && !usePostgres)(
    'refuses a valid token once its user is disabled, and takes it back on enable',
    async () => {
      const token = await tokenFor(registry, carol, ['repository:team/app:pull,push']);
      expect((await call(registry, TAGS, { token })).status).toBe(200);

      await setDisabled(registry, carol, true);
      expect(await nextStatus(() => call(registry, TAGS, { token }), 401)).toBe(401);
      const res = await call(registry, TAGS, { token });
      expect(res.headers.get('www-authenticate')).toBe(
        bearerChallenge(registry, 'repository:team/app:pull', 'invalid_token'),
      );
      expect((await requestToken(registry, carol, ['repository:team/app:pull'])).status).toBe(401);

      await setDisabled(registry, carol, false);
      expect(await nextStatus(() => call(registry, TAGS, { token }), 200)).toBe(200);
    },
  );

  it.skipIf(engine === 'postgres' && !usePostgres)(
    'answers 403 DENIED once the binding behind a valid token is revoked',
    async () => {
      const token = await tokenFor(registry, carol, ['repository:team/app:pull,push']);
      expect((await call(registry, TAGS, { token })).status).toBe(200);

      await revoke(registry, carol, 'team');
      expect(await nextStatus(() => call(registry, TAGS, { token }), 403)).toBe(403);
      const res = await call(registry, TAGS, { token });
      expect(await errorCode(res)).toBe('DENIED');
      expect(
        (await call(registry, '/v2/team/app/blobs/uploads/', { method: 'POST', token })).status,
      ).toBe(403);

      await grant(registry, carol, 'team', 'writer');
      expect(await nextStatus(() => call(registry, TAGS, { token }), 200)).toBe(200);
    },
  );

  it.skipIf(engine === 'postgres' && !usePostgres)(
    'applies a demotion from writer to reader to pushes with an old token',
    async () => {
      const token = await tokenFor(registry, carol, ['repository:team/app:pull,push']);
      await grant(registry, carol, 'team', 'reader');
      const push = () => call(registry, '/v2/team/app/blobs/uploads/', { method: 'POST', token });

      expect(await nextStatus(push, 403)).toBe(403);
      expect((await call(registry, TAGS, { token })).status).toBe(200);
      await grant(registry, carol, 'team', 'writer');
      expect(await nextStatus(push, 202)).toBe(202);
    },
  );

  it.skipIf(engine === 'postgres' && !usePostgres)(
    'refuses the old password right after passwd, even though it was just cached',
    async () => {
      // Two successful logins: the second is served from the one-minute success cache.
      expect((await requestToken(registry, carol, [])).status).toBe(200);
      expect((await requestToken(registry, carol, [])).status).toBe(200);

      const renewed = await changePassword(registry, carol);
      const old = () => requestToken(registry, carol, []);
      expect(await nextStatus(old, 401)).toBe(401);
      expect((await requestToken(registry, renewed, [])).status).toBe(200);
      carol = renewed;
    },
  );

  it.skipIf(engine === 'postgres' && !usePostgres)(
    'refuses a refresh token once its user is disabled',
    async () => {
      const res = await postToken(registry, {
        grant_type: 'password',
        service: 'portcullis',
        client_id: 'docker',
        access_type: 'offline',
        username: carol.name,
        password: carol.password,
      });
      const { refresh_token: refresh } = (await res.json()) as { refresh_token: string };
      const trade = () =>
        postToken(registry, {
          grant_type: 'refresh_token',
          service: 'portcullis',
          client_id: 'docker',
          refresh_token: refresh,
        });
      expect((await trade()).status).toBe(200);

      await setDisabled(registry, carol, true);
      expect(await nextStatus(trade, 401)).toBe(401);
      await setDisabled(registry, carol, false);
      expect(await nextStatus(trade, 200)).toBe(200);
    },
  );
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/client.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../cli/support/run-cli.js';
import { addUser, withStore, type Account } from './support/accounts.js';
import { requestToken, tokenFor } from './support/http.js';

const SCOPE = 'repository:team/app:pull,push';

function decode(token: string): { jti: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string };
}

async function ping(registry: TestRegistry, token: string): Promise<Response> {
  return fetch(`${registry.url}/v2/team/app/tags/list`, { headers: { Authorization: `Bearer ${token}` } });
}

async function cli(registry: TestRegistry, ...args: string[]) {
  return runCli(['token', 'revoke', ...args, '--data-dir', registry.dataDir], {
    env: registry.config.database === 'sqlite' ? {} : { PORTCULLIS_DATABASE: registry.config.database },
  });
}

/** PostgreSQL delivers the change through LISTEN/NOTIFY: allow it up to a second to arrive. */
async function eventually(check: () => Promise<number>, expected: number): Promise<number> {
  let status = await check();
  for (let i = 0; i < 20 && status !== expected; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await check();
  }

  return status;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe.skipIf(engine === 'postgres' && !(await postgresAvailable()))(`token revocation (${engine})`, () => {
    let registry: TestRegistry;
    let alice: Account;
    beforeAll(async () => {
      registry = await startRegistry({ engine });
      alice = await addUser(registry, 'alice', [['team', 'writer']]);
      await fetch(`${registry.url}/healthz`);
    });
    afterAll(() => registry.close());

    it('revoking one token id refuses that token on the next request and leaves others alone', async () => {
      const first = await tokenFor(registry, alice, [SCOPE]);
      const second = await tokenFor(registry, alice, ['repository:team/app:pull']);
      expect((await ping(registry, first)).status).not.toBe(401);

      const res = await cli(registry, '--jti', decode(first).jti, '--reason', 'leaked in a build log');
      expect(res).toMatchObject({ code: 0, stdout: `revoked token ${decode(first).jti}\n` });

      expect(await eventually(async () => (await ping(registry, first)).status, 401)).toBe(401);
      const refused = await ping(registry, first);
      expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await ping(registry, second)).status).not.toBe(401);
    });

    it("revoking a user's tokens in the middle of a push refuses the next chunk; a new token resumes it", async () => {
      const token = await tokenFor(registry, alice, [SCOPE]);
      const auth = { Authorization: `Bearer ${token}` };
      const started = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: auth });
      const location = new URL(started.headers.get('location')!, registry.url);
      const bytes = randomBytes(2000);
      const first = await fetch(location, {
        method: 'PATCH',
        headers: { ...auth, 'Content-Range': '0-999', 'Content-Type': 'application/octet-stream' },
        body: bytes.subarray(0, 1000),
      });
      expect(first.status).toBe(202);

      expect((await cli(registry, '--user', 'alice')).code).toBe(0);
      const next = new URL(first.headers.get('location')!, registry.url);
      const patch = (headers: Record<string, string>) =>
        fetch(next, {
          method: 'PATCH',
          headers: { ...headers, 'Content-Range': '1000-1999', 'Content-Type': 'application/octet-stream' },
          body: bytes.subarray(1000),
        });
      expect(await eventually(async () => (await patch(auth)).status, 401)).toBe(401);

      const fresh = await tokenFor(registry, alice, [SCOPE]);
      const resumed = await patch({ Authorization: `Bearer ${fresh}` });
      expect(resumed.status).toBe(202);
      const done = new URL(resumed.headers.get('location')!, registry.url);
      done.searchParams.set('digest', sha256(bytes));
      expect((await fetch(done, { method: 'PUT', headers: { Authorization: `Bearer ${fresh}` } })).status).toBe(201);
    });

    it('revoking a user also ends the refresh tokens it could mint new tokens with', async () => {
      const offline = await requestToken(registry, alice, [SCOPE], { offline_token: 'true' });
      const { refresh_token: refresh } = (await offline.json()) as { refresh_token: string };
      expect((await cli(registry, '--user', 'alice')).code).toBe(0);

      const post = await fetch(`${registry.url}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, service: 'portcullis', client_id: 't' }),
      });
      expect(post.status).toBe(401);
    });

    it('the emergency switch voids every token issued so far, and new sign-ins work', async () => {
      const admin = { name: 'admin', password: registry.adminPassword };
      const before = await tokenFor(registry, admin, [SCOPE]);
      expect((await cli(registry, '--all', '--reason', 'signing key exposure drill')).code).toBe(0);
      expect(await eventually(async () => (await ping(registry, before)).status, 401)).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect((await ping(registry, await tokenFor(registry, admin, [SCOPE]))).status).toBe(200);
    });

    it('records who revoked what and why', async () => {
      const rows = await withStore(registry, (store) => store.revocations.active(Date.now()));
      expect(rows.map((r) => r.kind)).toEqual(expect.arrayContaining(['token', 'subject', 'all']));
      expect(rows.find((r) => r.kind === 'token')).toMatchObject({ reason: 'leaked in a build log' });
      expect(rows.every((r) => r.actor.startsWith('cli:'))).toBe(true);
    });
  });
}

describe('portcullis token revoke: usage', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry.close());

  it.each([
    [[], 'give exactly one of --jti, --user, --robot, --rule or --all'],
    [['--jti', 'a', '--all'], 'give exactly one of --jti, --user, --robot, --rule or --all'],
    [['--user', 'nobody'], 'no user "nobody"'],
    [['--all', '--before', 'yesterday-ish'], '--before must be an ISO 8601 time'],
    [['--jti', 'not a jti!'], 'the jti must be a token id'],
  ])('%j is refused with a clear message and exit 1', async (args, message) => {
    const res = await cli(registry, ...args);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`portcullis: ${message}\n`);
  });
});

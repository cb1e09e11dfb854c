import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, basic } from '../helpers/client.js';
import { addUser, type Account } from './support/accounts.js';
import { call, postToken, rawRequest, requestToken, tokenFor } from './support/http.js';
import { startLoggedRegistry, type LoggedRegistry } from './support/logged-registry.js';

/** Texts that must appear in no response to a failed login and in no log line. */
const secrets = new Set<string>();

function remember(...values: string[]): void {
  for (const v of values) secrets.add(v);
}

describe('secrets are never echoed', () => {
  let registry: LoggedRegistry;
  let alice: Account;
  beforeAll(async () => {
    registry = await startLoggedRegistry();
    alice = await addUser(registry, 'alice', [['team', 'writer']]);
    remember(
      registry.adminPassword,
      alice.password,
      basic('admin', registry.adminPassword),
      basic('alice', alice.password),
    );
  });
  afterAll(() => registry.close());

  it('does not echo a submitted password in answers to bad logins', async () => {
    const guess = 'Guessed-Password-7f3a9c';
    remember(guess, basic('alice', guess), basic('nobody', guess));
    const answers = [
      await requestToken(registry, { name: 'alice', password: guess }, [
        'repository:team/app:pull',
      ]),
      await requestToken(registry, { name: 'nobody', password: guess }, []),
      await postToken(registry, {
        grant_type: 'password',
        service: 'portcullis',
        client_id: 'x',
        username: 'alice',
        password: guess,
      }),
      await postToken(registry, {
        grant_type: 'refresh_token',
        service: 'portcullis',
        client_id: 'x',
        refresh_token: `pcr_${guess}`,
      }),
      await postToken(registry, {
        grant_type: guess,
        service: 'portcullis',
        client_id: 'x',
        password: guess,
      }),
    ];

    for (const res of answers) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      const text = `${JSON.stringify([...res.headers])}\n${await res.text()}`;
      expect(text).not.toContain(guess);
    }
  });

  it('keeps passwords, tokens and Authorization values out of the log after a session', async () => {
    const client = new RegistryClient(registry.url, 'alice', alice.password);
    await client.pushImage('team/app', 'v1');
    const token = await tokenFor(registry, alice, ['repository:team/app:pull,push']);
    const offline = await requestToken(registry, alice, [], {
      offline_token: 'true',
      account: 'alice',
    });
    const { refresh_token: refresh } = (await offline.json()) as { refresh_token: string };
    const posted = await postToken(registry, {
      grant_type: 'refresh_token',
      service: 'portcullis',
      client_id: 'docker',
      refresh_token: refresh,
      scope: 'repository:team/app:pull',
    });
    const { access_token: second } = (await posted.json()) as { access_token: string };
    remember(token, token.split('.')[2]!, refresh, second, `Bearer ${token}`);

    expect((await call(registry, '/v2/team/app/manifests/v1', { token })).status).toBe(200);
    expect((await call(registry, '/v2/team/app/tags/list', { token: second })).status).toBe(200);
    expect((await call(registry, '/v2/secret/app/manifests/v1', { token })).status).toBe(401);
    expect((await call(registry, '/v2/team/app/manifests/v1', { token: `${token}x` })).status).toBe(
      401,
    );
    await call(registry, '/v2/team/app/manifests/%E0%A4%A', { token });
    await postToken(registry, {
      grant_type: 'password',
      service: 'portcullis',
      client_id: 'x',
      username: 'alice',
      password: alice.password,
    });
    await fetch(
      `${registry.url}/token?service=portcullis&account=alice&scope=repository:team/app:pull`,
      {
        headers: { Authorization: basic('alice', alice.password), Cookie: `session=${refresh}` },
      },
    );

    const log = registry.logText();
    expect(log.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(log, 'a secret reached the log').not.toContain(secret);
    expect(log).not.toMatch(/Bearer |Basic /);
  });

  it('logs the connecting address, not an X-Forwarded-For value, when no proxy is trusted', async () => {
    const token = await tokenFor(registry, alice, ['repository:team/app:pull']);
    await rawRequest(registry, 'GET', '/v2/team/app/tags/list', {
      Authorization: `Bearer ${token}`,
      'X-Forwarded-For': '203.0.113.66',
      'X-Request-Id': 'forwarded-probe-1',
    });
    const line = registry
      .logText()
      .split('\n')
      .find((l) => l.includes('forwarded-probe-1') && l.includes('request completed'));

    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ remoteAddress: '127.0.0.1', status: 200 });
    expect(registry.logText()).not.toContain('203.0.113.66');
  });
});

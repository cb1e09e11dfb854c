import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable } from '../helpers/postgres.js';
import { startRegistry } from '../helpers/registry.js';
import { newPkce } from '../../src/identity/people/pkce.js';
import { addUser, withStore } from './support/accounts.js';
import { Browser } from './support/browser.js';
import type { LoggedRegistry } from './support/logged-registry.js';
import { CLI_REDIRECT, cliCode, cliSignIn, grantedScope, redeem, startPeopleSetup, type PeopleSetup } from './support/people.js';

const TEAM_A = 'repository:team-a/app:pull,push';
const TEAM_B = 'repository:team-b/app:pull,push';

async function message(res: Response): Promise<string> {
  const body = (await res.json()) as { errors?: Array<{ message?: string }> };

  return body.errors?.[0]?.message ?? '';
}

describe('people sign in through a real OpenID provider', () => {
  let setup: PeopleSetup;
  const isCallback = (next: URL) => next.pathname === '/auth/callback';

  beforeAll(async () => {
    setup = await startPeopleSetup([{ client_id: 'another-app', client_secret: 'another-secret' }]);
    const { accounts } = setup.provider;
    accounts.set('alice', { preferred_username: 'Alice', email: 'alice@example.test', groups: ['team-a'] });
    accounts.set('bob', { preferred_username: 'bob', groups: [] });
    accounts.set('carol', { preferred_username: 'carol', groups: 'team-a' });
    accounts.set('dave', { preferred_username: 'dave', groups: ['team-a'] });
    await withStore(setup.registry, async (store) => {
      for (const ns of ['team-a', 'team-b']) await store.principals.createNamespace(ns, null);
      await store.principals.grant('group:team-a', 'team-a', 'writer');
      await store.principals.grant('group:team-b', 'team-b', 'reader');
    });
  });
  afterAll(() => setup?.close());

  it('signs a person in from the browser and creates them with their groups', async () => {
    const end = await new Browser('alice').visit(`${setup.registry.url}/auth/login`);
    expect(end.response?.status, await end.response?.clone().text()).toBe(200);
    expect(end.response!.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(await end.response!.text()).toContain('Signed in to Portcullis as <strong>alice</strong>');
    const person = await withStore(setup.registry, (store) => store.principals.people.byName('alice'));
    expect(person).toMatchObject({ externalSubject: `${setup.provider.issuer}|alice`, groups: ['team-a'], disabled: false });
  });

  it('sends the browser to the provider with PKCE, a nonce and a state bound to a cookie', async () => {
    const res = await fetch(`${setup.registry.url}/auth/login`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(setup.provider.issuer);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'portcullis',
      redirect_uri: `${setup.registry.url}/auth/callback`,
      scope: 'openid profile email groups',
      code_challenge_method: 'S256',
    });
    expect(to.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers.get('set-cookie')).toMatch(/^portcullis_login_[A-Za-z0-9_-]+=[A-Za-z0-9_-]{43}; Path=\/auth\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/);
  });

  it('maps group claims to group bindings, and follows group changes at the next sign-in', async () => {
    const session = await cliSignIn(setup, 'dave');
    expect(session).toMatchObject({ username: 'dave', expires_in: 3600 });
    expect(session.refresh_token).toMatch(/^pcr_/);
    expect(await grantedScope(setup.registry, session.refresh_token, TEAM_A)).toBe(TEAM_A);
    expect(await grantedScope(setup.registry, session.refresh_token, TEAM_B)).toBe('');

    setup.provider.accounts.set('dave', { preferred_username: 'dave', groups: ['team-b'] });
    await cliSignIn(setup, 'dave');
    const person = await withStore(setup.registry, (store) => store.principals.people.byName('dave'));
    expect(person?.groups).toEqual(['team-b']);
    // The earlier session sees the new groups at once: bindings are looked up per request.
    expect(await grantedScope(setup.registry, session.refresh_token, TEAM_A)).toBe('');
    expect(await grantedScope(setup.registry, session.refresh_token, TEAM_B)).toBe('repository:team-b/app:pull');
  });

  it('takes a group binding away on the next request', async () => {
    setup.provider.accounts.set('erin', { preferred_username: 'erin', groups: ['team-c'] });
    await withStore(setup.registry, async (store) => {
      await store.principals.createNamespace('team-c', null);
      await store.principals.grant('group:team-c', 'team-c', 'maintainer');
    });
    const session = await cliSignIn(setup, 'erin');
    expect(await grantedScope(setup.registry, session.refresh_token, 'repository:team-c/x:pull,push,delete')).toBe('repository:team-c/x:pull,push,delete');
    await withStore(setup.registry, (store) => store.principals.revoke('group:team-c', 'team-c'));
    expect(await grantedScope(setup.registry, session.refresh_token, 'repository:team-c/x:pull')).toBe('');
  });

  it('accepts a one-time code once, and only with the verifier of the CLI that asked for it', async () => {
    const { code, verifier } = await cliCode(setup, 'bob');
    const wrong = await redeem(setup, { code, code_verifier: newPkce().verifier });
    expect(wrong.status).toBe(400);
    expect(await message(wrong)).toBe('the code_verifier does not match this sign-in');
    // The failed attempt spent the code.
    const again = await redeem(setup, { code, code_verifier: verifier });
    expect(again.status).toBe(400);
    expect(await message(again)).toMatch(/unknown, expired or already used/);

    const fresh = await cliCode(setup, 'bob');
    expect((await redeem(setup, { code: fresh.code, code_verifier: fresh.verifier })).status).toBe(200);
    const replay = await redeem(setup, { code: fresh.code, code_verifier: fresh.verifier });
    expect(replay.status).toBe(400);
    expect(await message(replay)).toMatch(/already used/);
  });

  it('refuses a tampered state', async () => {
    const browser = new Browser('bob');
    const stop = await browser.visit(`${setup.registry.url}/auth/login`, isCallback);
    const url = new URL(stop.url);
    const state = url.searchParams.get('state')!;
    url.searchParams.set('state', `${state.slice(0, 20)}${state[20] === 'A' ? 'B' : 'A'}${state.slice(21)}`);
    const res = await browser.request(url);
    expect(res.status).toBe(400);
    expect(await message(res)).toMatch(/the sign-in state is invalid or expired/);
  });

  it('refuses a callback in a browser that did not start the sign-in', async () => {
    const browser = new Browser('bob');
    const stop = await browser.visit(`${setup.registry.url}/auth/login`, isCallback);
    const cookie = browser.cookieNames('127.0.0.1').find((n) => n.startsWith('portcullis_login_'))!;
    browser.forget('127.0.0.1', cookie);
    const res = await browser.request(new URL(stop.url));
    expect(res.status).toBe(400);
    expect(await message(res)).toMatch(/this browser did not start this sign-in/);
  });

  it('refuses a replayed authorization code', async () => {
    const browser = new Browser('bob');
    const stop = await browser.visit(`${setup.registry.url}/auth/login`, isCallback);
    const cookie = browser.cookieNames('127.0.0.1').find((n) => n.startsWith('portcullis_login_'))!;
    const recorded = `${cookie}=${browser.cookieValue('127.0.0.1', cookie)}`;
    const first = await browser.request(new URL(stop.url));
    expect(first.status, await first.text()).toBe(200);
    // The same callback again, cookie and all, as an attacker who recorded it would send it.
    const replay = await fetch(stop.url, { headers: { cookie: recorded }, redirect: 'manual' });
    expect(replay.status).toBe(403);
    expect(await message(replay)).toMatch(/did not accept the authorization code \(invalid_grant\)/);
  });

  it('refuses a code the provider issued to another client', async () => {
    const browser = new Browser('bob');
    const atProvider = await browser.visit(`${setup.registry.url}/auth/login`, (next) => next.origin === setup.provider.issuer);
    const url = new URL(atProvider.url);
    url.searchParams.set('client_id', 'another-app');
    const stop = await browser.visit(url.toString(), isCallback);
    const res = await browser.request(new URL(stop.url));
    expect(res.status).toBe(403);
    expect(await message(res)).toMatch(/did not accept the authorization code \(invalid_(grant|client)\)/);
  });

  it('refuses a person whose name a local user holds', async () => {
    await addUser(setup.registry, 'frank');
    setup.provider.accounts.set('frank-at-idp', { preferred_username: 'frank' });
    const end = await new Browser('frank-at-idp').visit(`${setup.registry.url}/auth/login`);
    expect(end.response?.status).toBe(403);
    expect(await message(end.response!)).toBe('sign-in refused: a local user named frank exists; an admin must resolve it');
  });

  it('refuses a disabled person, and their refresh tokens stop working', async () => {
    const session = await cliSignIn(setup, 'carol');
    expect(await grantedScope(setup.registry, session.refresh_token, TEAM_A)).toBe(TEAM_A);
    await withStore(setup.registry, (store) => store.principals.setDisabled('carol', true));
    const end = await new Browser('carol').visit(`${setup.registry.url}/auth/login`);
    expect(end.response?.status).toBe(403);
    expect(await message(end.response!)).toBe('sign-in refused: user carol is disabled');
    const res = await fetch(`${setup.registry.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.refresh_token, service: 'portcullis' }).toString(),
    });
    expect(res.status).toBe(401);
  });

  it('refuses a password sign-in for a person', async () => {
    const res = await fetch(`${setup.registry.url}/token?service=portcullis`, {
      headers: { Authorization: `Basic ${Buffer.from('alice:').toString('base64')}` },
    });
    expect(res.status).toBe(401);
  });

  it('accepts only loopback addresses for the CLI', async () => {
    const { challenge } = newPkce();
    for (const redirect of ['http://192.0.2.1:8000/cb', 'https://127.0.0.1:8000/cb', 'http://127.0.0.1/cb', 'http://user@127.0.0.1:8000/cb']) {
      const query = new URLSearchParams({ cli_redirect: redirect, cli_challenge: challenge, cli_state: 's' });
      const res = await fetch(`${setup.registry.url}/auth/login?${query}`, { redirect: 'manual' });
      expect(res.status, redirect).toBe(400);
    }
    const partial = await fetch(`${setup.registry.url}/auth/login?cli_redirect=${encodeURIComponent(CLI_REDIRECT)}`, { redirect: 'manual' });
    expect(partial.status).toBe(400);
    const badChallenge = new URLSearchParams({ cli_redirect: CLI_REDIRECT, cli_challenge: 'plain', cli_state: 's' });
    expect((await fetch(`${setup.registry.url}/auth/login?${badChallenge}`, { redirect: 'manual' })).status).toBe(400);
  });

  it('says so when the provider refuses the sign-in', async () => {
    const res = await fetch(`${setup.registry.url}/auth/callback?error=access_denied&state=x`);
    expect(res.status).toBe(403);
    expect(await message(res)).toBe('sign-in refused by the OpenID provider (access_denied)');
  });
});

const usePostgres = await postgresAvailable();

describe.skipIf(!usePostgres)('people sign in on PostgreSQL', () => {
  let setup: PeopleSetup;
  beforeAll(async () => {
    setup = await startPeopleSetup([], 'postgres');
    setup.provider.accounts.set('heidi', { preferred_username: 'heidi', groups: ['team-a'] });
    await withStore(setup.registry, async (store) => {
      await store.principals.createNamespace('team-a', null);
      await store.principals.grant('group:team-a', 'team-a', 'writer');
    });
  });
  afterAll(() => setup?.close());

  it('creates the person, applies group bindings and spends codes once', async () => {
    const { code, verifier } = await cliCode(setup, 'heidi');
    const [first, second] = await Promise.all([redeem(setup, { code, code_verifier: verifier }), redeem(setup, { code, code_verifier: verifier })]);
    expect([first.status, second.status].sort()).toEqual([200, 400]);
    const ok = first.status === 200 ? first : second;
    const session = (await ok.json()) as { refresh_token: string };
    expect(await grantedScope(setup.registry, session.refresh_token, TEAM_A)).toBe(TEAM_A);
    const again = await cliSignIn(setup, 'heidi');
    expect(again.username).toBe('heidi');
  });
});

describe('what the server logs about sign-ins', () => {
  it('never holds a code, the state, a verifier or a refresh token', async () => {
    const setup = await startPeopleSetup([], 'logged');
    try {
      setup.provider.accounts.set('ivan', { preferred_username: 'ivan' });
      const browser = new Browser('ivan');
      const stop = await browser.visit(`${setup.registry.url}/auth/login`, (next) => next.pathname === '/auth/callback');
      const callback = new URL(stop.url);
      expect((await browser.request(callback)).status).toBe(200);
      const { code, verifier } = await cliCode(setup, 'ivan');
      const session = (await (await redeem(setup, { code, code_verifier: verifier })).json()) as { refresh_token: string };
      const log = (setup.registry as LoggedRegistry).logText();
      expect(log).toContain('"url":"/auth/callback"');
      for (const secret of [callback.searchParams.get('code')!, callback.searchParams.get('state')!, code, verifier, session.refresh_token]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await setup.close();
    }
  });
});

describe('without auth.oidc', () => {
  it('answers 404 on the sign-in endpoints', async () => {
    const registry = await startRegistry();
    try {
      for (const path of ['/auth/login', '/auth/callback?code=x&state=y']) {
        const res = await fetch(`${registry.url}${path}`, { redirect: 'manual' });
        expect(res.status, path).toBe(404);
      }
    } finally {
      await registry.close();
    }
  });
});

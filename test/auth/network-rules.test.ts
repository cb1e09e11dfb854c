import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../cli/support/run-cli.js';
import { addUser, type Account } from './support/accounts.js';
import { startLoggedRegistry } from './support/logged-registry.js';
import { requestToken, tokenFor } from './support/http.js';

const SCOPE = 'repository:team/app:pull';

async function allow(registry: TestRegistry, kind: 'namespace' | 'user', name: string, ...args: string[]) {
  return runCli([kind, 'allow', name, ...args, '--data-dir', registry.dataDir]);
}

async function tags(registry: TestRegistry, token: string, headers: Record<string, string> = {}) {
  return fetch(`${registry.url}/v2/team/app/tags/list`, { headers: { Authorization: `Bearer ${token}`, ...headers } });
}

describe('namespace address rules behind a trusted proxy', () => {
  let registry: TestRegistry;
  let alice: Account;
  beforeAll(async () => {
    registry = await startRegistry({ env: { PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1' } });
    alice = await addUser(registry, 'alice', [['team', 'reader']]);
    expect((await allow(registry, 'namespace', 'team', '--cidr', '10.20.0.0/16,2001:db8::/32')).code).toBe(0);
  });
  afterAll(() => registry.close());

  it('refuses a client whose forwarded address is outside the list with DENIED', async () => {
    const token = await tokenFor(registry, alice, [SCOPE]);
    const res = await tags(registry, token, { 'X-Forwarded-For': '192.0.2.7' });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      errors: [{ code: 'DENIED', message: 'requested access to the resource is denied from this network' }],
    });
  });

  it('lets a client in from inside the list', async () => {
    const token = await tokenFor(registry, alice, [SCOPE]);
    const res = await tags(registry, token, { 'X-Forwarded-For': '10.20.3.4' });
    expect(res.status).not.toBe(403);
  });

  it('hides the namespace from the catalog of an outside client', async () => {
    const admin = { name: 'admin', password: registry.adminPassword };
    const token = await tokenFor(registry, admin, ['registry:catalog:*', 'repository:team/app:push,pull']);
    const push = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'X-Forwarded-For': '10.20.0.1' },
    });
    expect(push.status).toBe(202);
    const location = new URL(push.headers.get('location')!, registry.url);
    location.searchParams.set('digest', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect((await fetch(location, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'X-Forwarded-For': '10.20.0.1' } })).status).toBe(201);

    const catalog = (from: string) =>
      fetch(`${registry.url}/v2/_catalog`, { headers: { Authorization: `Bearer ${token}`, 'X-Forwarded-For': from } });
    expect(await (await catalog('10.20.0.1')).json()).toEqual({ repositories: ['team/app'] });
    expect(await (await catalog('198.51.100.1')).json()).toEqual({ repositories: [] });
  });

  it('lets outside clients in again once the restriction is lifted with --anywhere', async () => {
    expect((await allow(registry, 'namespace', 'team', '--anywhere')).stdout).toBe('namespace team may be used from anywhere\n');
    const token = await tokenFor(registry, alice, [SCOPE]);
    expect((await tags(registry, token, { 'X-Forwarded-For': '192.0.2.7' })).status).not.toBe(403);
  });
});

describe('a refusal by address', () => {
  it('records the reason in the request log line', async () => {
    const registry = await startLoggedRegistry();
    try {
      const alice = await addUser(registry, 'alice', [['team', 'reader']]);
      expect((await allow(registry, 'namespace', 'team', '--cidr', '10.0.0.0/8')).code).toBe(0);
      const token = await tokenFor(registry, alice, [SCOPE]);
      expect((await tags(registry, token)).status).toBe(403);
      const line = registry
        .logText()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.status === 403);
      expect(line).toMatchObject({
        user: 'alice',
        repo: 'team/app',
        denied: 'address 127.0.0.1 is outside the allowed networks of namespace team',
      });
    } finally {
      await registry.close();
    }
  });
});

describe('address rules when the peer is not a trusted proxy', () => {
  let registry: TestRegistry;
  let alice: Account;
  beforeAll(async () => {
    registry = await startRegistry();
    alice = await addUser(registry, 'alice', [['team', 'reader']]);
    expect((await allow(registry, 'namespace', 'team', '--cidr', '127.0.0.0/8')).code).toBe(0);
  });
  afterAll(() => registry.close());

  it('ignores X-Forwarded-For and judges the peer address', async () => {
    const token = await tokenFor(registry, alice, [SCOPE]);
    expect((await tags(registry, token, { 'X-Forwarded-For': '192.0.2.7' })).status).not.toBe(403);
    expect((await allow(registry, 'namespace', 'team', '--cidr', '10.0.0.0/8')).code).toBe(0);
    expect((await tags(registry, token, { 'X-Forwarded-For': '10.1.1.1' })).status).toBe(403);
  });

  it("refuses tokens and requests from outside a user's own allowlist, on the next request", async () => {
    const token = await tokenFor(registry, alice, [SCOPE]);
    expect((await allow(registry, 'user', 'alice', '--cidr', '10.0.0.0/8')).code).toBe(0);
    expect((await fetch(`${registry.url}/v2/`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(403);
    expect((await requestToken(registry, alice, [SCOPE])).status).toBe(403);
    expect((await allow(registry, 'user', 'alice', '--cidr', '127.0.0.1/32')).code).toBe(0);
    expect((await fetch(`${registry.url}/v2/`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it.each([
    [['--cidr', '10.0.0.0/33'], 'not a CIDR: 10.0.0.0/33'],
    [[], 'give exactly one of --cidr LIST or --anywhere'],
    [['--cidr', '10.0.0.0/8', '--anywhere'], 'give exactly one of --cidr LIST or --anywhere'],
  ])('the CLI refuses %j', async (args, message) => {
    const res = await allow(registry, 'namespace', 'team', ...args);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`portcullis: ${message}\n`);
  });

  it('names an unknown namespace or user', async () => {
    expect((await allow(registry, 'namespace', 'nope', '--anywhere')).stderr).toBe('portcullis: no namespace "nope"\n');
    expect((await allow(registry, 'user', 'nope', '--anywhere')).stderr).toBe('portcullis: no user "nope"\n');
  });
});

describe('namespace address rules behind a proxy that sets RFC 7239 Forwarded', () => {
  let registry: TestRegistry;
  let alice: Account;
  beforeAll(async () => {
    registry = await startRegistry({ env: { PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1', PORTCULLIS_TRUSTED_PROXY_HEADER: 'forwarded' } });
    alice = await addUser(registry, 'alice', [['team', 'reader']]);
    expect((await allow(registry, 'namespace', 'team', '--cidr', '10.20.0.0/16,2001:db8::/32')).code).toBe(0);
  });
  afterAll(() => registry.close());

  it('believes the for= address from the trusted proxy, IPv4 with a port and IPv6 in brackets', async () => {
    const token = await tokenFor(registry, alice, [SCOPE]);
    expect((await tags(registry, token, { Forwarded: 'for="10.20.3.4:5555";proto=https' })).status).not.toBe(403);
    expect((await tags(registry, token, { Forwarded: 'for="[2001:db8::7]:443"' })).status).not.toBe(403);
    expect((await tags(registry, token, { Forwarded: 'for=192.0.2.7' })).status).toBe(403);
  });

  it('ignores X-Forwarded-For, which this proxy passes through from the client', async () => {
    const token = await tokenFor(registry, alice, [SCOPE]);
    expect((await tags(registry, token, { 'X-Forwarded-For': '10.20.3.4', Forwarded: 'for=192.0.2.7' })).status).toBe(403);
    // No Forwarded header at all: the address is the proxy's own, outside the list.
    expect((await tags(registry, token, { 'X-Forwarded-For': '10.20.3.4' })).status).toBe(403);
  });

  it('refuses a hidden or unknown client node', async () => {
    const token = await tokenFor(registry, alice, [SCOPE]);
    expect((await tags(registry, token, { Forwarded: 'for=_hidden' })).status).toBe(403);
    expect((await tags(registry, token, { Forwarded: 'for=unknown' })).status).toBe(403);
  });
});

describe('a Forwarded header where the proxies set X-Forwarded-For', () => {
  it('is ignored', async () => {
    const registry = await startRegistry({ env: { PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      const alice = await addUser(registry, 'alice', [['team', 'reader']]);
      expect((await allow(registry, 'namespace', 'team', '--cidr', '10.20.0.0/16')).code).toBe(0);
      const token = await tokenFor(registry, alice, [SCOPE]);
      expect((await tags(registry, token, { Forwarded: 'for=10.20.3.4' })).status).toBe(403);
    } finally {
      await registry.close();
    }
  });
});

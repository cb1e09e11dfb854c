import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, withStore, type Account } from './support/accounts.js';

describe('admin API: /explain and /who-can', () => {
  let registry: TestRegistry;
  let adminToken: string;
  let alice: Account;

  const tokenFor = async (name: string, password: string) => {
    const response = await fetch(`${registry.url}/token?service=portcullis&scope=${encodeURIComponent('registry:admin:*')}`, {
      headers: { Authorization: basic(name, password) },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  };
  const get = (path: string, bearer = adminToken) => fetch(`${registry.url}/admin/v1${path}`, { headers: { Authorization: `Bearer ${bearer}` } });
  const errorOf = async (response: Response) => ((await response.json()) as { errors: Array<{ message: string }> }).errors[0]!.message;

  beforeAll(async () => {
    registry = await startRegistry();
    adminToken = await tokenFor('admin', registry.adminPassword);
    alice = await addUser(registry, 'alice', [['team', 'writer']]);
    await addUser(registry, 'bob', [['team', 'reader']]);
    await withStore(registry, (store) => store.addressRules.setNamespace('team', ['10.0.0.0/8']));
  });
  afterAll(() => registry.close());

  it('explains an allowed and a denied request stage by stage', async () => {
    const allowed = await get('/explain?subject=alice&repository=team/app&action=push&address=10.0.0.1');
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({
      subject: 'alice',
      repository: 'team/app',
      action: 'push',
      address: '10.0.0.1',
      outcome: 'allow',
      conditional: false,
      conditions: [],
      steps: [
        { stage: 'identity', outcome: 'pass', detail: 'user alice: enabled' },
        { stage: 'bindings', outcome: 'pass', detail: 'push granted by writer on namespace team' },
        { stage: 'network', outcome: 'pass', detail: '10.0.0.1 is allowed: namespace team allows 10.0.0.0/8' },
        { stage: 'trust', outcome: 'pass', detail: 'no trust policy; secret scan warn' },
      ],
    });

    const denied = (await (await get('/explain?subject=bob&repository=team/app&action=push')).json()) as { outcome: string; steps: Array<{ outcome: string }> };
    expect(denied.outcome).toBe('deny');
    expect(denied.steps.map((s) => s.outcome)).toEqual(['pass', 'fail', 'skip', 'skip']);
  });

  it('defaults the action to pull, and says what an allow without the address depends on', async () => {
    const body = (await (await get('/explain?subject=bob&repository=team/app')).json()) as { action: string; outcome: string };
    expect(body).toMatchObject({
      action: 'pull',
      outcome: 'allow',
      conditional: true,
      conditions: [{ stage: 'network', outcome: 'skip', detail: 'depends on the client address: namespace team allows 10.0.0.0/8' }],
    });
  });

  it('lists who can push, with the namespace rule that applies', async () => {
    const response = await get('/who-can?repository=team/app&action=push');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { principals: Array<{ subject: string; grantedBy: string[]; networks: unknown[] }> };
    expect(body.principals.map((p) => p.subject)).toEqual(['admin', 'alice']);
    expect(body.principals[0]!.grantedBy).toEqual(['admin on namespace *']);
    expect(body.principals[1]!.networks).toEqual([{ by: 'namespace team', cidrs: ['10.0.0.0/8'] }]);
  });

  it('answers bad input with 400 and an unknown subject with 404', async () => {
    const cases: Array<[string, number, string]> = [
      ['/explain?repository=team/app', 400, 'give subject as a query parameter'],
      ['/explain?subject=alice&repository=Team', 400, '"Team" is not a valid repository name'],
      ['/explain?subject=alice&repository=team/app&action=fly', 400, 'action must be one of pull, push, delete'],
      ['/explain?subject=alice&repository=team/app&address=nowhere', 400, 'address must be an IPv4 or IPv6 address'],
      ['/explain?subject=nobody&repository=team/app', 404, expect.stringContaining('no subject "nobody"') as unknown as string],
      ['/who-can?action=pull', 400, 'give repository as a query parameter'],
      ['/who-can?repository=team/app&action=*', 400, 'action must be one of pull, push, delete'],
    ];
    for (const [path, status, message] of cases) {
      const response = await get(path);
      expect(response.status, path).toBe(status);
      expect(await errorOf(response), path).toEqual(message);
    }
  });

  it('refuses a caller without the admin role', async () => {
    const token = await tokenFor(alice.name, alice.password);
    const explain = await get('/explain?subject=alice&repository=team/app', token);
    expect(explain.status).toBe(401);
    expect(explain.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await get('/who-can?repository=team/app', token)).status).toBe(401);
  });
});

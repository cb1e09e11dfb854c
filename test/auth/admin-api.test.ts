import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser } from './support/accounts.js';

const ADMIN_SCOPE = 'registry:admin:*';

describe('admin API (/admin/v1)', () => {
  let registry: TestRegistry;
  let token: string;

  const tokenFor = async (name: string, password: string, scope = ADMIN_SCOPE) => {
    const response = await fetch(`${registry.url}/token?service=portcullis&scope=${encodeURIComponent(scope)}`, {
      headers: { Authorization: basic(name, password) },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  };
  const call = (method: string, path: string, body?: unknown, bearer = token) =>
    fetch(`${registry.url}/admin/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = async (response: Response) => (await response.json()) as Record<string, unknown>;

  beforeAll(async () => {
    registry = await startRegistry();
    token = await tokenFor('admin', registry.adminPassword);
  });
  afterAll(() => registry.close());

  it('challenges a request without a token for the admin scope', async () => {
    const response = await fetch(`${registry.url}/admin/v1/users`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain(`scope="${ADMIN_SCOPE}"`);
  });

  it('gives a non-admin no admin scope, and refuses a repository token', async () => {
    const alice = await addUser(registry, 'alice', [['team', 'maintainer']]);
    const aliceToken = await tokenFor(alice.name, alice.password);
    expect(decodeJwt(aliceToken).access).toEqual([]);
    const refused = await call('GET', '/users', undefined, aliceToken);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');

    const repositoryToken = await tokenFor('admin', registry.adminPassword, 'repository:team/app:pull');
    expect((await call('GET', '/users', undefined, repositoryToken)).status).toBe(401);
  });

  it('creates a namespace and a user, grants a role, and lists the binding', async () => {
    expect((await call('POST', '/namespaces', { name: 'shop', environment: 'prod' })).status).toBe(201);
    expect(await json(await call('POST', '/namespaces', { name: 'shop', environment: 'prod' }))).toEqual({ name: 'shop', existed: true });
    const relabel = await call('POST', '/namespaces', { name: 'shop', environment: 'test' });
    expect(relabel.status).toBe(409);
    expect(((await json(relabel)).errors as Array<{ message: string }>)[0]!.message).toBe('namespace shop exists already, with environment prod');
    const user = await call('POST', '/users', { name: 'bob' });
    expect(user.status).toBe(201);
    const { password } = (await json(user)) as { password: string };
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect((await fetch(`${registry.url}/token?service=portcullis`, { headers: { Authorization: basic('bob', password) } })).status).toBe(200);

    expect((await call('POST', '/bindings', { role: 'reader', user: 'bob', namespace: 'shop' })).status).toBe(204);
    const { bindings } = (await json(await call('GET', '/bindings'))) as { bindings: unknown[] };
    expect(bindings).toContainEqual({ namespace: 'shop', role: 'reader', holder: 'bob', kind: 'user', mixedEnvironments: false });
    expect((await call('DELETE', '/bindings?role=reader&user=bob&namespace=shop')).status).toBe(204);
    expect((await call('DELETE', '/bindings?role=reader&user=bob&namespace=shop')).status).toBe(404);
  });

  it('answers bad input with 400, unknown names with 404, clashes with 409, each with the reason', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/users', '{not json', 400, 'the body must be a JSON object'],
      ['POST', '/users', { name: 'Bad Name' }, 400, 'user names are 1-64 characters: lower-case letters, digits, ".", "_", "-"'],
      ['POST', '/users', { name: 'carol', password: 'short' }, 400, expect.stringContaining('12') as unknown as string],
      ['POST', '/users', { name: 'bob' }, 409, 'user "bob" already exists'],
      ['POST', '/users/nobody/disable', undefined, 404, 'no user "nobody"'],
      ['PUT', '/namespaces/shop/networks', { cidrs: ['10.0.0.0/33'] }, 400, 'not a CIDR: 10.0.0.0/33'],
      ['POST', '/federation/issuers', { alias: 'gh', issuer: 'http://ci.example.com', audiences: ['x'] }, 400, 'issuer: an OIDC issuer is an https URL (http only on loopback)'],
      ['POST', '/revocations', { user: 'bob', all: true }, 400, 'give exactly one of jti, user, robot, rule or all'],
    ];
    for (const [method, path, body, status, message] of cases) {
      const response = await call(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(((await json(response)).errors as Array<{ message: string }>)[0]!.message).toEqual(message);
    }
  });

  it('creates a robot whose secret is shown once and never listed, rotates and fences it', async () => {
    const made = await call('POST', '/robots', { name: 'pusher', namespace: 'shop', role: 'writer', expiresIn: '30d' });
    expect(made.status).toBe(201);
    const { secret, robot } = (await json(made)) as { secret: string; robot: { signInName: string; expiresAt: string } };
    expect(secret).toMatch(/^pcs_/);
    expect(robot.signInName).toBe('robot+pusher');
    expect(Date.parse(robot.expiresAt)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const listed = await (await call('GET', '/robots')).text();
    expect(listed).not.toContain(secret);
    expect(listed).not.toMatch(/hash/i);

    const rotated = (await json(await call('POST', '/robots/pusher/rotate', { overlap: '1m' }))) as { secret: string };
    expect(rotated.secret).not.toBe(secret);
    expect((await call('PUT', '/robots/pusher/networks', { cidrs: ['192.0.2.0/24'] })).status).toBe(204);
    expect((await fetch(`${registry.url}/token?service=portcullis`, { headers: { Authorization: basic('robot+pusher', rotated.secret) } })).status).toBe(403);
    expect((await call('DELETE', '/robots/pusher')).status).toBe(204);
  });

  it('manages federation issuers and rules, and revokes a rule\'s tokens', async () => {
    expect((await call('POST', '/namespaces', { name: 'ci', environment: 'build' })).status).toBe(201);
    const issuer = await call('POST', '/federation/issuers', { alias: 'github', issuer: 'https://token.actions.githubusercontent.com', audiences: ['https://registry.test'] });
    expect(issuer.status).toBe(201);
    expect(await json(issuer)).toMatchObject({ alias: 'github', kind: 'oidc', algorithms: ['RS256', 'ES256'] });

    const rule = { name: 'release', issuer: 'github', conditions: { repository_id: '1', ref: ['refs/heads/main', 'refs/tags/v*'] }, grants: [{ namespace: 'ci', role: 'writer' }] };
    expect((await call('POST', '/federation/rules', rule)).status).toBe(201);
    expect((await call('POST', '/federation/rules', rule)).status).toBe(409);
    const mixed = await call('POST', '/federation/rules', { ...rule, name: 'both', grants: [{ namespace: 'ci', role: 'reader' }, { namespace: 'shop', role: 'reader' }] });
    expect(mixed.status).toBe(409);
    expect((await call('POST', '/federation/rules', { ...rule, name: 'anyone', conditions: { sub: '**' } })).status).toBe(400);

    const { rules } = (await json(await call('GET', '/federation/rules'))) as { rules: Array<Record<string, unknown>> };
    expect(rules).toEqual([expect.objectContaining({ name: 'release', signInName: 'rule+release', grants: [{ namespace: 'ci', role: 'writer' }], disabled: false })]);
    expect((await call('POST', '/federation/rules/release/disable')).status).toBe(204);
    const revoked = await call('POST', '/revocations', { rule: 'release', reason: 'test' });
    expect(revoked.status).toBe(201);
    expect(await json(revoked)).toMatchObject({ description: 'revoked every token of rule+release' });
    expect((await call('DELETE', '/federation/issuers/github')).status).toBe(409);
    expect((await call('DELETE', '/federation/rules/release')).status).toBe(204);
    expect((await call('DELETE', '/federation/issuers/github')).status).toBe(204);
  });

  it("manages the bindings of the OpenID provider's groups", async () => {
    expect((await call('POST', '/groups', { role: 'reader', group: 'team-a', namespace: 'shop' })).status).toBe(204);
    expect(await json(await call('GET', '/groups'))).toEqual({ bindings: [{ namespace: 'shop', role: 'reader', group: 'team-a' }] });
    const { bindings } = (await json(await call('GET', '/bindings'))) as { bindings: unknown[] };
    expect(bindings).toContainEqual({ namespace: 'shop', role: 'reader', holder: 'group:team-a', kind: 'group', mixedEnvironments: false });
    expect((await call('POST', '/groups', { role: 'reader', group: 'bad group', namespace: 'shop' })).status).toBe(400);
    expect((await call('DELETE', '/groups?role=reader&group=team-a&namespace=shop')).status).toBe(204);
    expect((await call('DELETE', '/groups?role=reader&group=team-a&namespace=shop')).status).toBe(404);
  });

  it('rotates the signing key: the JWKS lists both keys and the old token still works', async () => {
    const rotated = await call('POST', '/keys/rotate');
    expect(rotated.status).toBe(201);
    const jwks = (await (await fetch(`${registry.url}/token/jwks`)).json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(2);
    expect((await call('GET', '/keys')).status).toBe(200);
  });

  it('cuts off an admin demoted by another on the very next request', async () => {
    const second = await addUser(registry, 'ops', [['*', 'admin']]);
    const opsToken = await tokenFor(second.name, second.password);
    expect((await call('GET', '/users', undefined, opsToken)).status).toBe(200);
    expect((await call('DELETE', '/bindings?role=admin&user=ops&namespace=*')).status).toBe(204);
    expect((await call('GET', '/users', undefined, opsToken)).status).toBe(403);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../cli/support/run-cli.js';

const SCOPE = 'repository:team/app:pull,push';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('robot accounts', () => {
  let registry: TestRegistry;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', registry.dataDir]);
  const token = (name: string, secret: string) =>
    fetch(`${registry.url}/token?service=portcullis&scope=${SCOPE}`, { headers: { Authorization: basic(name, secret) } });
  const v2 = async (bearer: string) =>
    (await fetch(`${registry.url}/v2/`, { headers: { Authorization: `Bearer ${bearer}` } })).status;
  async function create(name: string, ...args: string[]): Promise<string> {
    const res = await cli('robot', 'create', name, '--namespace', 'team', ...args);
    expect(res.code, res.stderr).toBe(0);

    return /secret \(shown once\): (pcs_\S+)/.exec(res.stdout)![1]!;
  }
  async function bearer(name: string, secret: string): Promise<string> {
    const res = await token(`robot+${name}`, secret);
    expect(res.status).toBe(200);

    return ((await res.json()) as { token: string }).token;
  }

  beforeAll(async () => {
    registry = await startRegistry();
    expect((await cli('namespace', 'create', 'team')).code).toBe(0);
  });
  afterAll(() => registry.close());

  it('signs in with its secret, gets only its role, and records its last use', async () => {
    const secret = await create('ci', '--role', 'writer', '--expires-in', '30d');
    const res = await token('robot+ci', secret);
    const body = (await res.json()) as { token: string; refresh_token?: string };
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString('utf8')) as { access: unknown };
    expect(claims.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    const push = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${body.token}` },
    });
    expect(push.status).toBe(202);
    expect((await token('robot+ci', `${secret}x`)).status).toBe(401);

    expect((await cli('bindings')).stdout).toContain('team\twriter\trobot+ci\n');
    const listed = await cli('robot', 'list');
    expect(listed.stdout).toMatch(/^robot\+ci\tteam\twriter\texpires \S+\tlast used \S+ from 127\.0\.0\.1\tenabled$/m);
    expect(listed.stdout).not.toContain(secret);
  });

  it('keeps the old secret valid during a rotation overlap, and only then', async () => {
    const old = await create('rotating');
    const res = await cli('robot', 'rotate', 'rotating', '--overlap', '2s');
    const fresh = /\(shown once\): (pcs_\S+)/.exec(res.stdout)![1]!;
    expect((await token('robot+rotating', old)).status).toBe(200);
    expect((await token('robot+rotating', fresh)).status).toBe(200);
    await sleep(2100);
    expect((await token('robot+rotating', old)).status).toBe(401);
    expect((await token('robot+rotating', fresh)).status).toBe(200);
  });

  it('is refused on its next request once disabled, expired or deleted', async () => {
    // Long enough for the disable/enable round trip through the CLI on a loaded machine.
    const secret = await create('short', '--expires-in', '8s');
    const expiredBy = Date.now() + 8_000;
    const t = await bearer('short', secret);
    expect(await v2(t)).toBe(200);
    expect((await cli('robot', 'disable', 'short')).code).toBe(0);
    expect(await v2(t)).toBe(401);
    expect((await cli('robot', 'enable', 'short')).code).toBe(0);
    expect(await v2(t)).toBe(200);
    await sleep(Math.max(0, expiredBy + 100 - Date.now()));
    expect(await v2(t)).toBe(401);
    expect((await token('robot+short', secret)).status).toBe(401);
    expect((await cli('robot', 'list')).stdout).toMatch(/^robot\+short\t.*\texpired$/m);

    const gone = await create('gone');
    const g = await bearer('gone', gone);
    expect((await cli('robot', 'delete', 'gone')).stdout).toBe('deleted robot+gone\n');
    expect(await v2(g)).toBe(401);
  });

  it.each([
    [['--expires-in', '91d'], 'the lifetime may be at most 90d (robots.maxLifetimeDays)'],
    [['--expires-in', 'soon'], '--expires-in must look like 90d, 12h, 30m or 45s'],
    [['--role', 'admin'], 'role must be reader, writer or maintainer'],
  ])('refuses to create with %j', async (args, message) => {
    const res = await cli('robot', 'create', 'bad', '--namespace', 'team', ...args);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`portcullis: ${message}\n`);
  });

  it('never hands a robot a refresh token', async () => {
    const secret = await create('offline');
    const res = await fetch(`${registry.url}/token?service=portcullis&offline_token=true`, {
      headers: { Authorization: basic('robot+offline', secret) },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).not.toHaveProperty('refresh_token');
  });

  it('is refused outside its network allowlist, at /token and on requests with a token it already holds', async () => {
    const secret = await create('fenced');
    const held = await bearer('fenced', secret);
    expect((await cli('robot', 'allow', 'fenced', '--cidr', '192.0.2.0/24')).code).toBe(0);
    expect((await token('robot+fenced', secret)).status).toBe(403);
    expect(await v2(held)).toBe(403);
    expect((await cli('robot', 'allow', 'fenced', '--anywhere')).code).toBe(0);
    expect((await token('robot+fenced', secret)).status).toBe(200);
  });

  it('loses every token it holds to token revoke --robot, but keeps its secret', async () => {
    const secret = await create('leaky');
    const held = await bearer('leaky', secret);
    expect((await cli('token', 'revoke', '--robot', 'leaky')).code).toBe(0);
    expect(await v2(held)).toBe(401);
    expect(await v2(await bearer('leaky', secret))).toBe(200);
  });
});

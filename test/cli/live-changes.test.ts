import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableEngines, type Engine } from '../durability/support/engines.js';
import { rawRequest, type RawResponse } from '../durability/support/http.js';
import { startServerProcess, type ServerProcess } from '../durability/support/server-process.js';
import { Session, sha256 } from '../durability/support/session.js';
import { runCli } from './support/run-cli.js';

const REPO = 'team/app';
const PASSWORD = 'dave-first-password';

const engines = await availableEngines();

/** Polls `probe` until it gives `want` or the deadline passes; returns the last answer. */
async function settle<T>(deadlineMs: number, want: T, probe: () => Promise<T>): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const got = await probe();
    if (got === want || Date.now() >= until) return got;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(engines)('the CLI changes a running server on its next request: $name', (engine) => {
  let server: ServerProcess;
  let database: Awaited<ReturnType<Engine['database']>>;
  const cli = (args: string[], stdin?: string) =>
    runCli([...args, '--data-dir', server.dataDir], { stdin, env: database.env });
  const soon = <T>(want: T, probe: () => Promise<T>) => settle(engine.deadlineMs, want, probe);

  /** A token for pull and push on REPO, and the actions it actually carries. */
  async function tokenFor(
    password: string,
  ): Promise<{ status: number; token?: string; actions: string[] }> {
    const query = new URLSearchParams({
      service: 'portcullis',
      scope: `repository:${REPO}:pull,push`,
    });
    const res = await rawRequest(`${server.url}/token?${query}`, {
      headers: { Authorization: `Basic ${Buffer.from(`dave:${password}`).toString('base64')}` },
    });
    if (res.status !== 200) return { status: res.status, actions: [] };
    const { token } = JSON.parse(res.body.toString()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      access: Array<{ actions: string[] }>;
    };

    return { status: 200, token, actions: claims.access.flatMap((a) => a.actions).sort() };
  }
  const actionsFor = async (password: string) => (await tokenFor(password)).actions.join(',');
  const tokenStatus = async (password: string) => (await tokenFor(password)).status;

  /** The status of POST …/blobs/uploads/ with `token`. */
  const startUpload = async (token: string): Promise<number> => {
    const res: RawResponse = await rawRequest(`${server.url}/v2/${REPO}/blobs/uploads/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });

    return res.status;
  };
  const get = async (path: string, token: string): Promise<number> =>
    (await rawRequest(`${server.url}${path}`, { headers: { Authorization: `Bearer ${token}` } }))
      .status;

  beforeAll(async () => {
    database = await engine.database();
    server = await startServerProcess({ env: database.env });
    expect((await cli(['user', 'add', 'dave', '--password-stdin'], `${PASSWORD}\n`)).code).toBe(0);
    expect((await cli(['namespace', 'create', 'team'])).code).toBe(0);
  });
  afterAll(async () => {
    await server?.dispose();
    await database?.drop();
  });

  it('a user with no binding gets a token without actions and cannot push', async () => {
    const { status, token, actions } = await tokenFor(PASSWORD);

    expect(status).toBe(200);
    expect(actions).toEqual([]);
    expect(await startUpload(token!)).toBe(401);
  });

  it('grant takes effect at once: the next token carries push and the push succeeds', async () => {
    expect((await cli(['grant', 'writer', 'dave', 'team'])).stdout).toBe(
      'granted writer on team to dave\n',
    );

    expect(await soon('pull,push', () => actionsFor(PASSWORD))).toBe('pull,push');
    const session = new Session(server.url, 'dave', PASSWORD);
    const blob = Buffer.from('pushed after a live grant');
    expect((await session.pushMonolithic(REPO, blob, sha256(blob), blob.length)).status).toBe(201);
  });

  it('revoke takes effect on the next request made with an existing token', async () => {
    const { token, actions } = await tokenFor(PASSWORD);
    expect(actions).toEqual(['pull', 'push']);
    expect(await startUpload(token!)).toBe(202);

    expect((await cli(['revoke', 'writer', 'dave', 'team'])).code).toBe(0);

    expect(await soon(403, () => startUpload(token!))).toBe(403);
    expect(await actionsFor(PASSWORD)).toBe('');
  });

  it('a demotion keeps pull and removes push at once', async () => {
    expect((await cli(['grant', 'writer', 'dave', 'team'])).code).toBe(0);
    expect(await soon('pull,push', () => actionsFor(PASSWORD))).toBe('pull,push');
    const { token } = await tokenFor(PASSWORD);
    expect((await cli(['grant', 'reader', 'dave', 'team'])).code).toBe(0);

    expect(await soon(403, () => startUpload(token!))).toBe(403);
    expect(await get(`/v2/${REPO}/tags/list`, token!)).not.toBe(403);
    expect(await actionsFor(PASSWORD)).toBe('pull');
  });

  it('disable shuts out existing tokens and passwords at once; enable lets them back', async () => {
    const { token } = await tokenFor(PASSWORD);
    expect((await cli(['user', 'disable', 'dave'])).code).toBe(0);

    expect(await soon(401, () => get('/v2/', token!))).toBe(401);
    expect(await tokenStatus(PASSWORD)).toBe(401);

    expect((await cli(['user', 'enable', 'dave'])).code).toBe(0);
    expect(await soon(200, () => tokenStatus(PASSWORD))).toBe(200);
    expect(await get('/v2/', token!)).toBe(200);
  });

  it('passwd replaces the password at once, even one the server has just verified', async () => {
    expect(await tokenStatus(PASSWORD)).toBe(200);
    const changed = await cli(
      ['user', 'passwd', 'dave', '--password-stdin'],
      'dave-new-password\n',
    );
    expect(changed.code).toBe(0);

    expect(await soon(401, () => tokenStatus(PASSWORD))).toBe(401);
    expect(await tokenStatus('dave-new-password')).toBe(200);
  });

  it('bindings lists what the running server enforces', async () => {
    const res = await cli(['bindings']);

    expect(res.code).toBe(0);
    expect(res.stdout.split('\n')).toEqual(
      expect.arrayContaining(['*\tadmin\tadmin', 'team\treader\tdave']),
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWorkspace, usageError } from './support/run-cli.js';

type Workspace = Awaited<ReturnType<typeof cliWorkspace>>;

describe('portcullis namespace create|list, grant, revoke, bindings', () => {
  let ws: Workspace;

  const bindings = async () => {
    const res = await ws.run(['bindings']);
    expect(res.code).toBe(0);

    return res.stdout.trim() === '' ? [] : res.stdout.trim().split('\n');
  };

  beforeAll(async () => {
    ws = await cliWorkspace();
    for (const name of ['alice', 'bob']) {
      const res = await ws.run(['user', 'add', name, '--password-stdin'], {
        stdin: `${name}-password-long\n`,
      });
      expect(res.code).toBe(0);
    }
  });
  afterAll(async () => {
    await ws.remove();
  });

  it('namespace create makes a namespace once, with an optional environment', async () => {
    expect(await ws.run(['namespace', 'create', 'team'])).toEqual({
      code: 0,
      stdout: 'created namespace team\n',
      stderr: '',
    });
    expect(await ws.run(['namespace', 'create', 'team'])).toEqual({
      code: 0,
      stdout: 'namespace team already exists\n',
      stderr: '',
    });
    expect((await ws.run(['namespace', 'create', 'apps/prod', '--environment', 'prod'])).code).toBe(
      0,
    );

    const list = await ws.run(['namespace', 'list']);
    expect(list).toEqual({ code: 0, stdout: 'apps/prod\tprod\nteam\t-\n', stderr: '' });
  });

  it('namespace create refuses names that are not repository paths, and the root', async () => {
    for (const name of ['Team', 'team/', '/team', '.team', 'a..b', 'a//b', '*', 'x'.repeat(256)]) {
      const res = await ws.run(['namespace', 'create', name]);

      expect(res).toEqual({
        code: 1,
        stdout: '',
        stderr: usageError(`"${name}" is not a valid namespace name`),
      });
    }
    expect((await ws.run(['namespace', 'list'])).stdout).toBe('apps/prod\tprod\nteam\t-\n');
  });

  it('grant binds a role; a second grant on the namespace replaces it', async () => {
    expect(await ws.run(['grant', 'reader', 'alice', 'team'])).toEqual({
      code: 0,
      stdout: 'granted reader on team to alice\n',
      stderr: '',
    });
    expect((await ws.run(['grant', 'writer', 'alice', 'team'])).code).toBe(0);
    expect((await ws.run(['grant', 'admin', 'bob', '*'])).code).toBe(0);

    expect(await bindings()).toEqual(['*\tadmin\tbob', 'team\twriter\talice']);
  });

  it('grant refuses an unknown role, user or namespace, and changes nothing', async () => {
    expect(await ws.run(['grant', 'owner', 'alice', 'team'])).toEqual({
      code: 1,
      stdout: '',
      stderr: usageError('role must be one of reader, writer, maintainer, admin'),
    });
    expect(await ws.run(['grant', 'reader', 'nobody', 'team'])).toEqual({
      code: 1,
      stdout: '',
      stderr: usageError('no user "nobody"'),
    });
    expect(await ws.run(['grant', 'reader', 'alice', 'ghost'])).toEqual({
      code: 1,
      stdout: '',
      stderr: usageError(
        'no namespace "ghost" (create it with: portcullis namespace create ghost)',
      ),
    });
    expect((await ws.run(['grant', 'reader', 'alice'])).stderr).toMatch(
      /missing required argument 'namespace'/,
    );

    expect(await bindings()).toEqual(['*\tadmin\tbob', 'team\twriter\talice']);
  });

  it('revoke removes a binding only when the role matches', async () => {
    expect(await ws.run(['revoke', 'reader', 'alice', 'team'])).toEqual({
      code: 1,
      stdout: '',
      stderr: usageError('alice has no reader binding on team'),
    });
    expect(await bindings()).toEqual(['*\tadmin\tbob', 'team\twriter\talice']);

    expect(await ws.run(['revoke', 'writer', 'alice', 'team'])).toEqual({
      code: 0,
      stdout: 'revoked writer on team from alice\n',
      stderr: '',
    });
    expect(await bindings()).toEqual(['*\tadmin\tbob']);
    expect((await ws.run(['revoke', 'writer', 'alice', 'team'])).code).toBe(1);
  });

  it('revoke refuses an unknown role, user or namespace', async () => {
    expect((await ws.run(['revoke', 'owner', 'bob', '*'])).stderr).toBe(
      usageError('role must be one of reader, writer, maintainer, admin'),
    );
    expect((await ws.run(['revoke', 'admin', 'nobody', '*'])).stderr).toBe(
      usageError('no user "nobody"'),
    );
    expect((await ws.run(['revoke', 'admin', 'bob', 'ghost'])).stderr).toBe(
      usageError('no namespace "ghost" (create it with: portcullis namespace create ghost)'),
    );
    expect(await bindings()).toEqual(['*\tadmin\tbob']);
  });

  it('bindings on an empty store prints nothing and succeeds', async () => {
    const empty = await cliWorkspace();
    try {
      expect(await empty.run(['bindings'])).toEqual({ code: 0, stdout: '', stderr: '' });
    } finally {
      await empty.remove();
    }
  });
});

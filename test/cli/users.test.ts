import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/identity/passwords.js';
import { openMetadataStore } from '../../src/storage/metadata/index.js';
import { cliWorkspace, usageError } from './support/run-cli.js';

type Workspace = Awaited<ReturnType<typeof cliWorkspace>>;

describe('portcullis user add|list|disable|enable|passwd', () => {
  let ws: Workspace;

  /** The stored password hash of `name`, read straight from the store the CLI wrote. */
  const storedHash = async (name: string) => {
    const store = await openMetadataStore('sqlite', ws.dataDir);
    try {
      return (await store.principals.userByName(name))?.passwordHash;
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    ws = await cliWorkspace();
  });
  afterAll(async () => {
    await ws.remove();
  });

  it('user add --password-stdin creates the user without echoing the password', async () => {
    const res = await ws.run(['user', 'add', 'alice', '--password-stdin'], {
      stdin: 'correct-horse-battery\n',
    });

    expect(res).toEqual({ code: 0, stdout: 'created user alice\n', stderr: '' });
    expect(await verifyPassword('correct-horse-battery', (await storedHash('alice'))!)).toBe(true);
  });

  it('user add without --password-stdin generates a password and prints it once', async () => {
    const res = await ws.run(['user', 'add', 'bob']);

    expect(res.code).toBe(0);
    const match = /^created user bob with password (\S{20,})\n$/.exec(res.stdout);
    expect(match).not.toBeNull();
    expect(await verifyPassword(match![1]!, (await storedHash('bob'))!)).toBe(true);
  });

  it('refuses a password shorter than 12 characters, and an empty one', async () => {
    for (const stdin of ['short-pw-11\n', '\n', '']) {
      const res = await ws.run(['user', 'add', 'carol', '--password-stdin'], { stdin });

      expect(res).toEqual({
        code: 1,
        stdout: '',
        stderr: usageError('password must be at least 12 characters'),
      });
    }
    expect(await storedHash('carol')).toBeUndefined();
  });

  it('refuses a duplicate user and leaves the first one alone', async () => {
    const before = await storedHash('alice');
    const res = await ws.run(['user', 'add', 'alice', '--password-stdin'], {
      stdin: 'another-long-password\n',
    });

    expect(res).toEqual({ code: 1, stdout: '', stderr: usageError('user "alice" already exists') });
    expect(await storedHash('alice')).toBe(before);
  });

  it('refuses names outside the allowed alphabet', async () => {
    for (const name of ['Alice', '.x', 'a b', 'a'.repeat(65), 'é']) {
      const res = await ws.run(['user', 'add', name, '--password-stdin'], {
        stdin: 'a-good-long-password\n',
      });

      expect(res.code).toBe(1);
      expect(res.stderr).toBe(
        usageError('user names are 1-64 characters: lower-case letters, digits, ".", "_", "-"'),
      );
    }
  });

  it('user add without a name is a usage error', async () => {
    const res = await ws.run(['user', 'add']);

    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/missing required argument 'name'/);
  });

  it('user list shows every user, enabled or not', async () => {
    const res = await ws.run(['user', 'list']);

    expect(res.code).toBe(0);
    const rows = res.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['alice', 'enabled'],
      ['bob', 'enabled'],
    ]);
    for (const row of rows) expect(new Date(row[2]!).toISOString()).toBe(row[2]);
  });

  it('user disable and enable switch the account; an unknown user is an error', async () => {
    expect(await ws.run(['user', 'disable', 'bob'])).toEqual({
      code: 0,
      stdout: 'disabled user bob\n',
      stderr: '',
    });
    expect((await ws.run(['user', 'list'])).stdout).toMatch(/^bob\tdisabled\t/m);
    expect(await ws.run(['user', 'enable', 'bob'])).toEqual({
      code: 0,
      stdout: 'enabled user bob\n',
      stderr: '',
    });
    expect((await ws.run(['user', 'list'])).stdout).toMatch(/^bob\tenabled\t/m);

    for (const verb of ['disable', 'enable']) {
      expect(await ws.run(['user', verb, 'nobody'])).toEqual({
        code: 1,
        stdout: '',
        stderr: usageError('no user "nobody"'),
      });
    }
  });

  it('user passwd sets a new password from stdin or generates one', async () => {
    const res = await ws.run(['user', 'passwd', 'alice', '--password-stdin'], {
      stdin: 'brand-new-password-1\n',
    });
    expect(res).toEqual({ code: 0, stdout: 'changed the password of alice\n', stderr: '' });
    expect(await verifyPassword('brand-new-password-1', (await storedHash('alice'))!)).toBe(true);
    expect(await verifyPassword('correct-horse-battery', (await storedHash('alice'))!)).toBe(false);

    const generated = await ws.run(['user', 'passwd', 'alice']);
    const match = /^new password for alice: (\S{20,})\n$/.exec(generated.stdout);
    expect(match).not.toBeNull();
    expect(await verifyPassword(match![1]!, (await storedHash('alice'))!)).toBe(true);
  });

  it('user passwd refuses a short password and an unknown user', async () => {
    const before = await storedHash('alice');
    const short = await ws.run(['user', 'passwd', 'alice', '--password-stdin'], {
      stdin: 'tiny\n',
    });
    expect(short).toEqual({
      code: 1,
      stdout: '',
      stderr: usageError('password must be at least 12 characters'),
    });
    expect(await storedHash('alice')).toBe(before);

    const unknown = await ws.run(['user', 'passwd', 'nobody', '--password-stdin'], {
      stdin: 'long-enough-password\n',
    });
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: usageError('no user "nobody"') });
  });
});

import { existsSync } from 'node:fs';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawRequest } from '../durability/support/http.js';
import { startServerProcess, type ServerProcess } from '../durability/support/server-process.js';
import { cliWorkspace } from './support/run-cli.js';

const GENERATED = /portcullis: created user "admin" with password (\S+)\n/;

/** The status of GET /token with Basic credentials. */
async function tokenStatus(server: ServerProcess, user: string, password: string): Promise<number> {
  const res = await rawRequest(`${server.url}/token?service=portcullis`, {
    headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  });

  return res.status;
}

describe('portcullis serve: the first admin', () => {
  let server: ServerProcess | undefined;

  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it('without PORTCULLIS_ADMIN_PASSWORD, generates one, prints it once on stderr and keeps it in a 0600 file', async () => {
    server = await startServerProcess({ generatedAdminPassword: true });
    const [first] = server.runs();
    const match = GENERATED.exec(first!.stderr);
    expect(match, `stderr was:\n${first!.stderr}`).not.toBeNull();
    const password = match![1]!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(first!.stderr.split(password)).toHaveLength(2);
    // The structured log names the file, never the password.
    expect(first!.stdout).not.toContain(password);

    const file = path.join(server.dataDir, 'admin-password');
    expect(first!.stderr).toContain(file);
    expect(await readFile(file, 'utf8')).toBe(`${password}\n`);
    const before = await stat(file);
    expect(before.mode & 0o777).toBe(0o600);
    expect(await tokenStatus(server, 'admin', password)).toBe(200);
    expect(await tokenStatus(server, 'admin', `${password}x`)).toBe(401);

    await server.stop('SIGTERM');
    await server.start();
    const second = server.runs()[1]!;
    expect(second.stderr).not.toMatch(/password/i);
    expect(second.stdout).not.toContain(password);
    expect(await readFile(file, 'utf8')).toBe(`${password}\n`);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    expect(await tokenStatus(server, 'admin', password)).toBe(200);
  });

  it('with PORTCULLIS_ADMIN_PASSWORD, uses it and neither prints nor writes a password', async () => {
    server = await startServerProcess();
    const [first] = server.runs();

    expect(first!.stderr).not.toMatch(/password/i);
    expect(first!.stdout).not.toContain(server.adminPassword);
    expect(existsSync(path.join(server.dataDir, 'admin-password'))).toBe(false);
    expect(await tokenStatus(server, 'admin', server.adminPassword)).toBe(200);
  });

  it('the password file is 0600 even when a stale, readable one was left in the data directory', async () => {
    const ws = await cliWorkspace();
    try {
      const file = path.join(ws.dataDir, 'admin-password');
      await writeFile(file, 'stale\n', { mode: 0o644 });
      await chmod(file, 0o644);
      server = await startServerProcess({ dataDir: ws.dataDir, generatedAdminPassword: true });
      const password = GENERATED.exec(server.runs()[0]!.stderr)?.[1];

      expect(password).toBeDefined();
      expect(await readFile(file, 'utf8')).toBe(`${password}\n`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await server?.dispose();
      server = undefined;
      await ws.remove();
    }
  });

  it('refuses to start with a PORTCULLIS_ADMIN_PASSWORD that is too short', async () => {
    const ws = await cliWorkspace();
    try {
      const res = await ws.run(['serve', '--listen', '127.0.0.1:0'], {
        env: { PORTCULLIS_ADMIN_PASSWORD: 'short' },
        timeoutMs: 20_000,
      });

      expect(res.timedOut).toBeUndefined();
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        'PORTCULLIS_ADMIN_PASSWORD: password must be at least 12 characters',
      );
      expect(res.stderr).not.toContain('short\n');
    } finally {
      await ws.remove();
    }
  });

  it('does not create an admin when the store already has users', async () => {
    const ws = await cliWorkspace();
    try {
      const added = await ws.run(['user', 'add', 'first', '--password-stdin'], {
        stdin: 'first-user-password\n',
      });
      expect(added.code).toBe(0);
      server = await startServerProcess({ dataDir: ws.dataDir, generatedAdminPassword: true });

      expect(server.runs()[0]!.stderr).not.toMatch(/password/i);
      expect(existsSync(path.join(ws.dataDir, 'admin-password'))).toBe(false);
      expect((await ws.run(['user', 'list'])).stdout).not.toMatch(/^admin\t/m);
    } finally {
      await server?.dispose();
      server = undefined;
      await ws.remove();
    }
  });
});

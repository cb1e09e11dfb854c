import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWorkspace } from './support/run-cli.js';

describe('portcullis credentials report', () => {
  let ws: Awaited<ReturnType<typeof cliWorkspace>>;
  const ok = async (...args: string[]) => {
    const result = await ws.run(args, { stdin: 'a-long-enough-password\n' });
    expect(result.stderr).toBe('');
  };

  beforeAll(async () => {
    ws = await cliWorkspace();
    await ok('namespace', 'create', 'shop', '--environment', 'prod');
    await ok('namespace', 'create', 'shop-ci', '--environment', 'build');
    await ok('user', 'add', 'root', '--password-stdin');
    await ok('grant', 'admin', 'root', '*');
    await ok('user', 'add', 'carol', '--password-stdin');
    await ok('user', 'environments', 'carol', '--mixed');
    await ok('grant', 'reader', 'carol', 'shop');
    await ok('grant', 'writer', 'carol', 'shop-ci');
    await ok('user', 'add', 'dave', '--password-stdin');
    await ok('grant', 'reader', 'dave', 'shop-ci');
    await ok('user', 'disable', 'dave');
    await ok('robot', 'create', 'old', '--namespace', 'shop-ci', '--role', 'writer');
    // The robot was made 40 days ago and never used since.
    const db = new SQLite(path.join(ws.dataDir, 'portcullis.db'));
    try {
      db.prepare('UPDATE robots SET created_at = created_at - ?, expires_at = expires_at - ? WHERE name = ?').run(40 * 86_400_000, 40 * 86_400_000, 'old');
    } finally {
      db.close();
    }
  });
  afterAll(() => ws.remove());

  it('lists every credential with its reach and findings', async () => {
    const result = await ws.run(['credentials', 'report', '--json']);
    expect(result.code).toBe(0);
    const entries = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { credential: string; findings: string[]; environments: string[]; kind: string });
    const of = (name: string) => entries.find((e) => e.credential === name)!;
    expect(of('root').findings).toContain('wildcard scope: bound on * (every repository)');
    expect(of('carol').findings).toEqual(['spans production and non-production (recorded exception)']);
    expect(of('carol').environments).toEqual(['build', 'prod']);
    expect(of('dave').findings).toContain('owner disabled: the user is disabled but still holds bindings');
    expect(of('robot+old')).toMatchObject({ kind: 'robot', findings: ['unused for more than 30 days'] });
  });

  it('prints a table and gates CI on the number of findings', async () => {
    const table = await ws.run(['credentials', 'report']);
    expect(table.stdout).toMatch(/^robot\+old\trobot\tnamespace shop-ci\t/m);
    expect(table.stdout).toContain('anonymous access: none (Portcullis serves no anonymous requests)\n');
    expect(table.stdout).toMatch(/^\d+ credentials, 4 findings\n$/m);
    expect((await ws.run(['credentials', 'report', '--max-findings', '3'])).code).toBe(3);
    expect((await ws.run(['credentials', 'report', '--max-findings', '4'])).code).toBe(0);
  });
});

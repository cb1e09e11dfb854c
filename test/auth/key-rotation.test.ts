import { randomBytes } from 'node:crypto';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, withDigest } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../cli/support/run-cli.js';
import type { Account } from './support/accounts.js';
import { tokenFor } from './support/http.js';

const SCOPE = 'repository:team/app:pull,push';

function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;
}

async function v2(registry: TestRegistry, token: string): Promise<number> {
  return (await fetch(`${registry.url}/v2/`, { headers: { Authorization: `Bearer ${token}` } })).status;
}

async function jwksKids(registry: TestRegistry): Promise<string[]> {
  const { keys } = (await (await fetch(`${registry.url}/token/jwks`)).json()) as { keys: Array<{ kid: string }> };

  return keys.map((k) => k.kid);
}

describe('portcullis keys rotate', () => {
  let registry: TestRegistry;
  let admin: Account;
  beforeAll(async () => {
    registry = await startRegistry();
    admin = { name: 'admin', password: registry.adminPassword, principal: '' };
  });
  afterAll(() => registry.close());

  it('signs new tokens with the new key while tokens of the old key keep working, on a running server', async () => {
    const before = await tokenFor(registry, admin, [SCOPE]);
    const unused = await tokenFor(registry, admin, ['repository:team/other:pull']);
    const started = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${before}` },
    });
    const location = started.headers.get('location')!;

    const res = await runCli(['keys', 'rotate', '--data-dir', registry.dataDir]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^new signing key [\w-]{43}; earlier keys verify until \d{4}-/);

    const after = await tokenFor(registry, admin, [SCOPE]);
    expect(kidOf(after)).not.toBe(kidOf(before));
    expect(await jwksKids(registry)).toEqual([kidOf(before), kidOf(after)]);
    expect(await v2(registry, before)).toBe(200);
    expect(await v2(registry, unused)).toBe(200);
    expect(await v2(registry, after)).toBe(200);

    // An upload location handed out before the rotation still works after it.
    const bytes = randomBytes(64);
    const put = await fetch(new URL(withDigest(location, sha256(bytes)), registry.url), {
      method: 'PUT',
      headers: { Authorization: `Bearer ${after}` },
      body: bytes,
    });
    expect(put.status).toBe(201);

    const listed = await runCli(['keys', 'list', '--data-dir', registry.dataDir]);
    expect(listed.stdout.trim().split('\n').map((l) => l.split('\t')[0])).toEqual([kidOf(before), kidOf(after)]);
    expect(listed.stdout).toMatch(/\tretired \d{4}-.*\n.*\tsigning\n$/);
  });

  it('drops a key from verification and the JWKS once its overlap has passed', async () => {
    const current = await tokenFor(registry, admin, [SCOPE]);
    const neverUsed = await tokenFor(registry, admin, ['repository:team/third:pull']);
    expect((await runCli(['keys', 'rotate', '--data-dir', registry.dataDir])).code).toBe(0);
    // Age the retirement past the overlap (token lifetime plus leeway) from another connection.
    const db = new SQLite(path.join(registry.dataDir, 'portcullis.db'));
    try {
      db.prepare('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NOT NULL').run(Date.now() - 24 * 3600 * 1000);
    } finally {
      db.close();
    }

    expect(await jwksKids(registry)).not.toContain(kidOf(current));
    expect(await v2(registry, neverUsed)).toBe(401);
    const fresh = await tokenFor(registry, admin, [SCOPE]);
    expect(await v2(registry, fresh)).toBe(200);

    const pruned = await runCli(['keys', 'rotate', '--data-dir', registry.dataDir]);
    expect(pruned.stdout).toContain(`removed expired key ${kidOf(current)}`);
  });
});

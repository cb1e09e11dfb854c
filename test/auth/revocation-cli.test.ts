import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, type Account } from './support/accounts.js';
import { call, errorCode, requestToken, tokenFor } from './support/http.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/portcullis.js');

/** Runs the real `portcullis` command on the registry's data; resolves with its exit code. */
function portcullis(registry: TestRegistry, args: string[], input?: string): Promise<number> {
  // Only PATH and HOME: a PORTCULLIS_* variable from the caller must not redirect the CLI.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args, '--data-dir', registry.dataDir],
      { env, timeout: 30_000 },
      (err) => {
        resolve(err ? Number((err as { code?: number }).code ?? 1) : 0);
      },
    );
    child.stdin?.end(input);
  });
}

/**
 * The same revocations as revocation.test.ts, made by the real CLI in another process on the
 * SQLite store. The next request after the command exits is asserted, with no waiting.
 */
describe('revocation through the portcullis CLI', () => {
  let registry: TestRegistry;
  let dan: Account;
  const TAGS = '/v2/team/app/tags/list';

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
      throw new Error('dist/cli/main.js is missing: run `npm run build` before this suite');
    }
    registry = await startRegistry();
    await new RegistryClient(registry.url, 'admin', registry.adminPassword).pushImage(
      'team/app',
      'v1',
    );
    dan = await addUser(registry, 'dan', [['team', 'writer']]);
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('user disable refuses the next request; user enable restores it', async () => {
    const token = await tokenFor(registry, dan, ['repository:team/app:pull']);
    expect((await call(registry, TAGS, { token })).status).toBe(200);

    expect(await portcullis(registry, ['user', 'disable', 'dan'])).toBe(0);
    expect((await call(registry, TAGS, { token })).status).toBe(401);

    expect(await portcullis(registry, ['user', 'enable', 'dan'])).toBe(0);
    expect((await call(registry, TAGS, { token })).status).toBe(200);
  });

  it('revoke answers the next request with 403 DENIED; grant restores it', async () => {
    const token = await tokenFor(registry, dan, ['repository:team/app:pull']);

    expect(await portcullis(registry, ['revoke', 'writer', 'dan', 'team'])).toBe(0);
    const res = await call(registry, TAGS, { token });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('DENIED');

    expect(await portcullis(registry, ['grant', 'writer', 'dan', 'team'])).toBe(0);
    expect((await call(registry, TAGS, { token })).status).toBe(200);
  });

  it('user passwd refuses the old password at /token right away', async () => {
    expect((await requestToken(registry, dan, [])).status).toBe(200);
    expect((await requestToken(registry, dan, [])).status).toBe(200);

    const password = 'a-brand-new-password-42';
    expect(
      await portcullis(registry, ['user', 'passwd', 'dan', '--password-stdin'], `${password}\n`),
    ).toBe(0);
    expect((await requestToken(registry, dan, [])).status).toBe(401);
    expect((await requestToken(registry, { ...dan, password }, [])).status).toBe(200);
  });
});

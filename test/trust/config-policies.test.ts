import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/support/run-cli.js';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { adminApi, cosignSign, p256 } from './support.js';

describe('trust policies from the config file', () => {
  let dir: string;
  let registry: TestRegistry;
  let admin: RegistryClient;
  const key = p256();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-trust-config-'));
    await writeFile(path.join(dir, 'release.pub'), key.publicPem);
    await writeFile(path.join(dir, 'prod.yaml'), 'signers:\n  - name: release\n    key: release.pub\nimmutableTags: ["v*"]\n');
    await writeFile(path.join(dir, 'portcullis.yaml'), 'trust:\n  policies:\n    - namespace: prod\n      file: prod.yaml\n');
    registry = await startRegistry({ configFile: path.join(dir, 'portcullis.yaml') });
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  });
  afterAll(async () => {
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies the file at start, with the key read next to it', async () => {
    const image = await admin.pushImage('prod/app', 'v1');
    expect((await admin.request('/v2/prod/app/manifests/v1')).status).toBe(403);
    await cosignSign(admin, 'prod/app', image.digest, key);
    expect((await admin.request('/v2/prod/app/manifests/v1')).status).toBe(200);
    const policies = (await (await adminApi(admin, 'GET', '/trust/policies')).json()) as { policies: { namespace: string; source: string; version: number }[] };
    expect(policies.policies).toEqual([expect.objectContaining({ namespace: 'prod', source: 'config', version: 1 })]);
  });

  it('keeps the version across restarts while the file is unchanged', async () => {
    await registry.restart();
    const policies = (await (await adminApi(admin, 'GET', '/trust/policies')).json()) as { policies: { version: number }[] };
    expect(policies.policies[0]!.version).toBe(1);
  });

  it('refuses changing or removing it through the API (409: the file is the source)', async () => {
    expect((await adminApi(admin, 'PUT', '/trust/policy?namespace=prod', { mode: 'audit' })).status).toBe(409);
    expect((await adminApi(admin, 'DELETE', '/trust/policy?namespace=prod')).status).toBe(409);
  });

  it('refuses changing it from a CLI run that was not given the config file (regression: it replaced the policy)', async () => {
    await writeFile(path.join(dir, 'weak.yaml'), 'secrets: warn\n');
    const set = await runCli(['trust', 'set', 'prod', '--file', path.join(dir, 'weak.yaml'), '--data-dir', registry.dataDir]);
    expect(set).toMatchObject({ code: 1, stderr: 'portcullis: the trust policy of namespace prod comes from the config file; change it there\n' });
    expect((await runCli(['trust', 'remove', 'prod', '--data-dir', registry.dataDir])).code).toBe(1);
  });

  it('config check validates the policy files and names the problem', async () => {
    const ok = await runCli(['config', 'check', '--config', path.join(dir, 'portcullis.yaml')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('trust policy of namespace prod: valid');
    await writeFile(path.join(dir, 'bad.yaml'), 'signers:\n  - name: release\n    key: missing.pub\n');
    await writeFile(path.join(dir, 'bad-config.yaml'), 'trust:\n  policies:\n    - namespace: prod\n      file: bad.yaml\n');
    const bad = await runCli(['config', 'check', '--config', path.join(dir, 'bad-config.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`trust policy file ${path.join(dir, 'bad.yaml')}: signer release: key: cannot read missing.pub`);
  });
});

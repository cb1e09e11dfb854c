import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../auth/support/browser.js';
import { grantedScope, startPeopleSetup, type PeopleSetup } from '../auth/support/people.js';
import { buildImageWithUmoci } from '../interop/support/build-image.js';
import { CLIENT_TIMEOUT_MS, credsArg, skopeo } from '../interop/support/clients.js';
import { createContainersEnv } from '../interop/support/containers-env.js';
import { requireTools } from '../interop/support/require-tool.js';
import { childEnv } from '../durability/support/server-process.js';
import { startRegistry } from '../helpers/registry.js';
import { PORTCULLIS_BIN, requireBuild } from './support/built.js';
import { runCli } from './support/run-cli.js';

/**
 * Runs `portcullis login` as a child process and signs in through the address it prints, as a
 * person would in their browser.
 */
async function login(registryUrl: string, authFile: string, who: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuild();
  const child = spawn(process.execPath, [PORTCULLIS_BIN, 'login', registryUrl, '--no-browser', '--authfile', authFile], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (part: Buffer) => (stderr += part.toString('utf8')));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (part: Buffer) => {
      stdout += part.toString('utf8');
      const found = /(http:\/\/\S+\/auth\/login\?\S+)/.exec(stdout);
      if (found) resolve(found[1]!);
    });
    child.on('close', () => reject(new Error(`login exited early: ${stderr}`)));
  });
  const end = await new Browser(who).visit(address);
  expect(end.response?.status).toBe(200);
  expect(await end.response!.text()).toBe('Signed in. You can close this window.\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

  return { code, stdout, stderr };
}

describe('portcullis login', () => {
  let setup: PeopleSetup;
  let work: string;

  beforeAll(async () => {
    setup = await startPeopleSetup();
    setup.provider.accounts.set('grace', { preferred_username: 'grace', groups: ['builders'] });
    work = await mkdtemp(path.join(tmpdir(), 'portcullis-login-'));
    const dataDir = ['--data-dir', setup.registry.dataDir];
    expect((await runCli(['namespace', 'create', 'team-a', ...dataDir])).code).toBe(0);
    const granted = await runCli(['group', 'grant', 'reader', 'builders', 'team-a', ...dataDir]);
    expect(granted.stdout).toBe('granted reader on team-a to group builders\n');
  });
  afterAll(async () => {
    await setup?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('signs in through the browser and writes a working identity token, keeping other entries', async () => {
    const authFile = path.join(work, 'config.json');
    await writeFile(authFile, JSON.stringify({ auths: { 'other.example.test': { auth: 'b3RoZXI6ZW50cnk=' } }, psFormat: 'table' }));
    const result = await login(setup.registry.url, authFile, 'grace');
    const host = new URL(setup.registry.url).host;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`signed in to ${host} as grace; docker, podman and skopeo will use it\n`);
    const file = JSON.parse(await readFile(authFile, 'utf8')) as { auths: Record<string, { identitytoken?: string; auth?: string }>; psFormat: string };
    expect(file.psFormat).toBe('table');
    expect(file.auths['other.example.test']).toEqual({ auth: 'b3RoZXI6ZW50cnk=' });
    const token = file.auths[host]?.identitytoken ?? '';
    expect(token).toMatch(/^pcr_/);
    expect(file.auths[host]?.auth).toBe(Buffer.from('grace:').toString('base64'));
    expect(result.stdout).not.toContain(token);
    expect((await stat(authFile)).mode & 0o777).toBe(0o600);
    expect(await grantedScope(setup.registry, token, 'repository:team-a/app:pull,push')).toBe('repository:team-a/app:pull');
  });

  it('lists and revokes group bindings', async () => {
    const dataDir = ['--data-dir', setup.registry.dataDir];
    expect((await runCli(['group', 'list', ...dataDir])).stdout).toBe('team-a\treader\tbuilders\n');
    const bad = await runCli(['group', 'grant', 'owner', 'builders', 'team-a', ...dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('portcullis: role must be one of reader, writer, maintainer, admin\n');
    const missing = await runCli(['group', 'grant', 'reader', 'builders', 'nowhere', ...dataDir]);
    expect(missing.stderr).toBe('portcullis: no namespace "nowhere" (create it with: portcullis namespace create nowhere)\n');
    const badName = await runCli(['group', 'grant', 'reader', 'a b', 'team-a', ...dataDir]);
    expect(badName.stderr).toMatch(/^portcullis: group names are 1-128 characters/);
    const revoked = await runCli(['group', 'revoke', 'writer', 'builders', 'team-a', ...dataDir]);
    expect(revoked.stderr).toBe('portcullis: group builders has no writer binding on team-a\n');
  });

  it('says so at once when the registry has no OpenID sign-in', async () => {
    const plain = await startRegistry();
    try {
      const result = await runCli(['login', plain.url, '--no-browser', '--authfile', path.join(work, 'unused.json')], { timeoutMs: 20_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('portcullis: the registry cannot start a sign-in: sign-in through an OpenID provider is not configured (auth.oidc)\n');
    } finally {
      await plain.close();
    }
  });

  it('shows no client secret in config check', async () => {
    const file = path.join(work, 'oidc.yaml');
    await writeFile(file, ['auth:', '  oidc:', '    issuer: https://idp.example.test', '    clientId: portcullis', '    clientSecret: do-not-print-me', ''].join('\n'));
    const checked = await runCli(['config', 'check', '--config', file, '--data-dir', work]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain('"clientSecret": "[redacted]"');
    expect(checked.stdout).not.toContain('do-not-print-me');
  });

  it('lets skopeo read an image with the identity token', async () => {
    requireTools('skopeo', 'umoci', 'busybox');
    const cenv = await createContainersEnv(path.join(work, 'containers'));
    const image = await buildImageWithUmoci(path.join(work, 'image'));
    const host = new URL(setup.registry.url).host;
    await skopeo(cenv, ['copy', '--dest-tls-verify=false', '--dest-creds', credsArg({ user: 'admin', password: setup.registry.adminPassword }), image.ref, `docker://${host}/team-a/app:v1`]);
    const authFile = path.join(work, 'skopeo-auth.json');
    expect((await login(setup.registry.url, authFile, 'grace')).code).toBe(0);
    const inspected = await skopeo(cenv, ['inspect', '--tls-verify=false', '--authfile', authFile, `docker://${host}/team-a/app:v1`]);
    expect((JSON.parse(inspected.stdout) as { Digest: string }).Digest).toBe(image.manifestDigest);
  }, CLIENT_TIMEOUT_MS);
});

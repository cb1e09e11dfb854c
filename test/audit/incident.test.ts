import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialIncident } from '../../src/admin/index.js';
import { runCli } from '../cli/support/run-cli.js';
import { basic, RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { addUser, withStore } from '../auth/support/accounts.js';

async function settled(registry: TestRegistry, count: number) {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const pulls = await withStore(registry, (store) => store.audit.query({ actions: ['manifest.pull', 'blob.pull'] }, 0, 1000));
    if (pulls.length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('incident response', () => {
  let registry: TestRegistry;
  let pulledByRobot: string[];
  let other: Awaited<ReturnType<RegistryClient['pushImage']>>;
  let secret: string;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', registry.dataDir], { cwd: registry.dataDir });

  beforeAll(async () => {
    registry = await startRegistry();
    const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    const first = await admin.pushImage('team/app', 'v1');
    const second = await admin.pushImage('team/tool', 'v1');
    other = await admin.pushImage('team/secret', 'v1');
    expect((await cli('namespace', 'create', 'team')).code).toBe(0);
    const created = await cli('robot', 'create', 'ci', '--namespace', 'team', '--role', 'reader');
    secret = /secret \(shown once\): (pcs_\S+)/.exec(created.stdout)![1]!;
    const robot = new RegistryClient(registry.url, 'robot+ci', secret);
    for (const [repo, image] of [['team/app', first], ['team/tool', second]] as const) {
      expect((await robot.request(`/v2/${repo}/manifests/v1`)).status).toBe(200);
      expect((await robot.request(`/v2/${repo}/blobs/${image.layerDigest}`)).status).toBe(200);
    }
    pulledByRobot = [first.digest, first.layerDigest, second.digest, second.layerDigest];
    // Someone else pulls from the same address: the report names them too.
    const carol = await addUser(registry, 'carol');
    expect((await cli('grant', 'reader', 'carol', 'team')).code).toBe(0);
    expect((await new RegistryClient(registry.url, carol.name, carol.password).request(`/v2/team/secret/manifests/v1`)).status).toBe(200);
    await settled(registry, 5);
  });
  afterAll(() => registry.close());

  it('names exactly the digests the credential pulled, cuts it off, and writes the report as JSON and a table', async () => {
    const held = new RegistryClient(registry.url, 'robot+ci', secret);
    await held.token(['repository:team/app:pull']);
    const result = await cli('incident', 'credential', 'robot+ci', '--since', '1h', '--report', 'report.json');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('disabled robot+ci\nrevoked every token of robot+ci\n');
    expect(result.stdout).toContain('other credentials seen from these addresses:\n');
    expect(result.stdout).toMatch(/^carol\t127\.0\.0\.1\t\d+ events$/m);

    const report = JSON.parse(await readFile(path.join(registry.dataDir, 'report.json'), 'utf8')) as CredentialIncident;
    expect(report.activity.map((a) => a.digest)).toEqual(pulledByRobot);
    expect(report.activity.map((a) => a.digest)).not.toContain(other.digest);
    expect(report.activity.every((a) => a.address === '127.0.0.1' && typeof a.bytes === 'number')).toBe(true);
    expect(report.addresses).toEqual(['127.0.0.1']);
    expect(report.alsoFromTheseAddresses.map((o) => o.credential)).toContain('carol');

    // Cut off: the held token and the secret both stop working.
    expect((await held.request('/v2/team/app/tags/list', { scope: 'repository:team/app:pull' })).status).toBe(401);
    expect((await fetch(`${registry.url}/token?service=portcullis`, { headers: { Authorization: basic('robot+ci', secret) } })).status).toBe(401);
  });

  it('lists every identity that pulled a digest, when and from where', async () => {
    const result = await cli('incident', 'digest', other.digest, '--json');
    const pulls = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(pulls).toEqual([expect.objectContaining({ credential: 'carol', address: '127.0.0.1', repository: 'team/secret', action: 'manifest.pull' })]);
    expect((await cli('incident', 'digest', `sha256:${'0'.repeat(64)}`)).stdout).toBe(`no recorded pulls of sha256:${'0'.repeat(64)}\n`);
  });

  it('refuses an unknown credential without touching anything', async () => {
    expect((await cli('incident', 'credential', 'nobody')).stderr).toBe('portcullis: no user "nobody" (robots are robot+NAME, federation rules rule+NAME)\n');
  });
});

describe('audit queries and incident response through the admin API', () => {
  it('answers who pulled what, pages, and cuts a credential off', async () => {
    const registry = await startRegistry();
    try {
      const admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
      const image = await admin.pushImage('team/app', 'v1');
      const carol = await addUser(registry, 'carol', [['team', 'reader']]);
      expect((await new RegistryClient(registry.url, carol.name, carol.password).request('/v2/team/app/manifests/v1')).status).toBe(200);
      await settled(registry, 1);
      const token = ((await (await fetch(`${registry.url}/token?service=portcullis&scope=registry:admin:*`, { headers: { Authorization: basic('admin', registry.adminPassword) } })).json()) as { token: string }).token;
      const get = (url: string) => fetch(`${registry.url}/admin/v1${url}`, { headers: { Authorization: `Bearer ${token}` } });

      const pulls = (await (await get(`/audit/pulls?digest=${image.digest}`)).json()) as { events: Array<Record<string, unknown>>; next: number | null };
      expect(pulls.events).toEqual([expect.objectContaining({ credential: 'carol', action: 'manifest.pull', digest: image.digest, at: expect.any(String) })]);
      expect(pulls.events[0]).not.toHaveProperty('hash');
      const page = (await (await get('/audit/events?limit=2')).json()) as { events: unknown[]; next: number | null };
      expect(page.events).toHaveLength(2);
      expect(page.next).toEqual(expect.any(Number));
      expect((await get('/audit/events?since=yesterday')).status).toBe(400);

      const incident = await fetch(`${registry.url}/admin/v1/incident/credential`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: JSON.stringify({ credential: 'carol' }),
      });
      expect(incident.status).toBe(200);
      expect(((await incident.json()) as CredentialIncident).activity.map((a) => a.digest)).toEqual([image.digest]);
      expect((await fetch(`${registry.url}/token?service=portcullis`, { headers: { Authorization: basic(carol.name, carol.password) } })).status).toBe(401);
      expect(((await (await get(`/incident/digest/${image.digest}`)).json()) as { pulls: unknown[] }).pulls).toHaveLength(1);
    } finally {
      await registry.close();
    }
  });
});

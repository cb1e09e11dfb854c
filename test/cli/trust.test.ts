import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pemKey, tarOf } from '../trust/scan-helpers.js';
import { OCI_MANIFEST, p256 } from '../trust/support.js';
import { runCli } from './support/run-cli.js';

describe('portcullis trust, quarantine, tag and scan commands', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;
  let first: Awaited<ReturnType<RegistryClient['pushImage']>>;
  let second: Awaited<ReturnType<RegistryClient['pushImage']>>;
  const cli = (...args: string[]) => runCli([...args, '--data-dir', registry.dataDir], { cwd: registry.dataDir });

  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    first = await admin.pushImage('rel/app', 'v1');
    second = await admin.pushImage('rel/app', 'next');
  });
  afterAll(() => registry.close());

  it('sets, shows and removes a policy from a file, naming problems in it', async () => {
    await writeFile(path.join(registry.dataDir, 'release.pub'), p256().publicPem);
    await writeFile(path.join(registry.dataDir, 'policy.yaml'), 'signers:\n  - name: release\n    key: release.pub\nrequireSignature: false\nimmutableTags: ["v*"]\n');
    const set = await cli('trust', 'set', 'rel', '--file', path.join(registry.dataDir, 'policy.yaml'));
    expect(set).toMatchObject({ code: 0, stdout: 'namespace rel: trust policy version 1\n' });
    await writeFile(path.join(registry.dataDir, 'signed.yaml'), 'signers:\n  - name: release\n    key: release.pub\nsecrets: block\nstagedDelivery: true\n');
    expect((await cli('trust', 'set', 'sig', '--file', path.join(registry.dataDir, 'signed.yaml'))).code).toBe(0);

    // The mode is shown only where signatures are checked: it governs nothing else.
    const list = (await cli('trust', 'show')).stdout.trim().split('\n');
    expect(list).toHaveLength(3);
    expect(list[0]).toBe('namespace\tversion\tsource\tmode\tsigners\tsecrets\timmutable\tstaged\tupdated');
    expect(list[1]).toMatch(/^rel\t1\tapi\t-\trelease\twarn \(registry-wide\)\tv\*\tno\t\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(list[2]).toMatch(/^sig\t1\tapi\tenforce\trelease\tblock\t-\tyes\t\d{4}-/);
    const one = JSON.parse((await cli('trust', 'show', 'rel')).stdout) as { updatedAt: string; policy: { immutableTags: string[] } };
    expect(one.policy.immutableTags).toEqual(['v*']);
    expect(one.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect((await cli('trust', 'remove', 'sig')).code).toBe(0);

    await writeFile(path.join(registry.dataDir, 'bad.yaml'), 'mode: strict\n');
    const bad = await cli('trust', 'set', 'rel', '--file', path.join(registry.dataDir, 'bad.yaml'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('trust policy: mode:');
  });

  it('overrides an immutable tag with a reason and shows it in the tag history', async () => {
    const refused = await admin.request('/v2/rel/app/manifests/v1', { method: 'PUT', body: second.manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(refused.status).toBe(403);
    const moved = await cli('tag', 'override', 'rel/app', 'v1', second.digest, '--reason', 'hotfix rebuilt');
    expect(moved.code).toBe(0);
    expect(moved.stdout).toBe(`rel/app:v1 -> ${second.digest} (overrode: tag v1 is immutable (pattern v*) and points at ${first.digest})\n`);
    const history = (await cli('tag', 'history', 'rel/app', 'v1')).stdout.trim().split('\n');
    expect(history).toHaveLength(3);
    expect(history[0]).toBe('time\ttag\tfrom\tto\tby\tnote');
    // The push is named by the user's name, not the principal id the record keeps.
    expect(history[1]).toMatch(new RegExp(`^\\d{4}-\\S+Z\\tv1\\t-\\t${first.digest}\\tadmin\\t-$`));
    expect(history[2]).toContain(`\tv1\t${first.digest}\t${second.digest}\tcli:`);
    expect(history[2]).toContain('override by cli:');
    expect(history[2]).toContain(': hotfix rebuilt (rule: tag v1 is immutable');
    const json = (await cli('tag', 'history', 'rel/app', 'v1', '--json')).stdout.trim().split('\n');
    expect(JSON.parse(json[0]!)).toMatchObject({ tag: 'v1', previous: null, digest: first.digest, actor: 'admin' });
    expect((await cli('tag', 'override', 'rel/app', 'v1', second.digest)).code).toBe(1);
  });

  it('quarantines and releases a digest, and says when there is nothing to release', async () => {
    expect((await cli('quarantine', 'add', first.digest, '--reason', 'under review')).stdout).toBe(`${first.digest}: quarantined\n`);
    expect((await admin.request(`/v2/rel/app/manifests/${first.digest}`)).status).toBe(403);
    expect((await cli('quarantine', 'list')).stdout).toMatch(new RegExp(`^${first.digest}\\tadmin\\t\\S+\\tcli:\\S+\\tunder review\\n$`));
    expect((await cli('quarantine', 'release', first.digest)).stdout).toMatch(/released \(was quarantined by cli:\S+: under review\)/);
    expect((await admin.request(`/v2/rel/app/manifests/${first.digest}`)).status).toBe(200);
    const again = await cli('quarantine', 'release', first.digest);
    expect(again).toMatchObject({ code: 1, stderr: `portcullis: ${first.digest} is not quarantined\n` });
    expect((await cli('quarantine', 'list')).stdout).toBe('nothing is quarantined\n');
  });

  it('lists scan findings with the path and line of each', async () => {
    const layer = gzipSync(tarOf([{ name: 'etc/app/notes.txt', content: `first line\n${pemKey('OPENSSH ', 3).text}` }]));
    const layerDigest = await admin.pushBlob('leak/app', layer);
    const config = Buffer.from('{}');
    const configDigest = await admin.pushBlob('leak/app', config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    });
    const pushed = await admin.request('/v2/leak/app/manifests/v1', { method: 'PUT', body: manifest, headers: { 'Content-Type': OCI_MANIFEST } });
    expect(pushed.status).toBe(201);

    const findings = await cli('scan', 'findings', layerDigest);
    expect(findings.code).toBe(0);
    expect(findings.stdout).toMatch(new RegExp(`^${layerDigest}\\tetc/app/notes.txt:2\\tprivate-key\\t[0-9a-f]{16}\\t`));
  });

  it('removes a policy, and fails when there is none to remove', async () => {
    const removed = await cli('trust', 'remove', 'rel');
    expect(removed.stdout).toBe('namespace rel: trust policy removed\n');
    expect((await cli('trust', 'remove', 'rel')).code).toBe(1);
  });
});

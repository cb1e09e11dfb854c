import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStore } from '../auth/support/accounts.js';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pemKey, randomText, tarOf, token } from './scan-helpers.js';
import { adminApi, errorOf, OCI_MANIFEST, pushManifest } from './support.js';

const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';

// The same behaviour whether layers are scanned on worker threads (the default) or on the main thread.
/** Polls `read` until `done` holds (warn-mode scans finish after the push), for up to 10 s. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each([
  { where: 'on worker threads', workers: undefined },
  { where: 'on the main thread', workers: 0 },
])('secret scanning on push, $where', ({ workers }) => {
  let registry: TestRegistry;
  let configDir: string;
  let admin: RegistryClient;
  const key = pemKey('OPENSSH ', 7);
  const githubToken = token('gh', 'p_', randomText(36, 11));

  /** An image whose first layer holds a private key that the second layer deletes, and whose config holds a token. */
  const push = async (repository: string, tag: string, { zstd = false, clean = false, salt = `${repository}:${tag}` } = {}) => {
    // Quarantine holds a digest everywhere, so each image gets its own layers unless a test wants them shared.
    const lower = tarOf([
      { name: 'app/main.js', content: `console.log(${JSON.stringify(salt)})\n` },
      { name: 'root/.ssh/id_ed25519', content: clean ? 'no key here\n' : key.text },
    ]);
    const upper = tarOf([{ name: 'root/.ssh/.wh.id_ed25519', content: '' }]);
    const layers = [lower, upper].map((tar) => (zstd ? zstdCompress(tar) : gzipSync(tar)));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: salt, config: { Env: ['PATH=/usr/bin', clean ? 'MODE=prod' : `GITHUB_TOKEN=${githubToken}`] }, rootfs: { type: 'layers', diff_ids: [] } }));
    const mediaType = zstd ? ZSTD_LAYER : GZIP_LAYER;
    const pushed = await pushManifest(admin, repository, tag, { bytes: config, mediaType: 'application/vnd.oci.image.config.v1+json' }, layers.map((bytes) => ({ bytes, mediaType })));
    const [res, digests, configDigest] = [pushed.res, pushed.layers, pushed.config];
    return { res, digest: pushed.digest, lower: digests[0]!, upper: digests[1]!, configDigest };
  };

  beforeAll(async () => {
    configDir = await mkdtemp(path.join(tmpdir(), 'portcullis-scan-config-'));
    const configFile = path.join(configDir, 'portcullis.yaml');
    await writeFile(configFile, workers === undefined ? '{}\n' : `trust:\n  secretScan:\n    workers: ${workers}\n`);
    registry = await startRegistry({ configFile });
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    for (const [namespace, secrets] of [['blk', 'block'], ['qrt', 'quarantine'], ['quiet', 'off']]) {
      const res = await adminApi(admin, 'PUT', `/trust/policy?namespace=${namespace}`, { secrets, rollback: 'allow' });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await registry.close();
    await rm(configDir, { recursive: true, force: true });
  });

  it('block: refuses the manifest with DENIED listing layer, path and rule, never the secret, and stores nothing', async () => {
    for (const zstd of [false, true]) {
      const pushed = await push('blk/app', zstd ? 'zstd' : 'gzip', { zstd });
      expect(pushed.res.status).toBe(403);
      const error = await errorOf(pushed.res);
      expect(error.code).toBe('DENIED');
      expect(error.message).toContain(`layer ${pushed.lower} path root/.ssh/id_ed25519:1: private-key (deleted by ${pushed.upper}, still retrievable)`);
      expect(error.message).toContain(`config ${pushed.configDigest} path config.Env[1]`);
      expect(error.message).not.toContain(key.body.slice(0, 40));
      expect(error.message).not.toContain(githubToken);
      expect((await admin.request(`/v2/blk/app/manifests/${pushed.digest}`)).status).toBe(404);
      // The layers were uploaded before the manifest was refused; the one holding the key stays held.
      expect((await admin.request(`/v2/blk/app/blobs/${pushed.lower}`)).status).toBe(403);
    }
  });

  it('block: refuses a secret whatever the layer media type or subject says (regression: octet-stream, upper-case TAR and wasm-with-subject layers were not scanned)', async () => {
    const target = await push('blk/app', 'target', { clean: true });
    const keyFile = Buffer.from(pemKey('', 9).text);
    for (const [mediaType, extra] of [
      ['application/octet-stream', {}],
      ['application/vnd.oci.image.layer.v1.TAR+gzip', {}],
      ['application/vnd.wasm.content.layer.v1+wasm', { subject: { mediaType: OCI_MANIFEST, digest: target.digest, size: 1 } }],
    ] as const) {
      const layer = mediaType.includes('gzip') ? gzipSync(keyFile) : keyFile;
      const layerDigest = await admin.pushBlob('blk/app', layer);
      const config = Buffer.from('{}');
      const configDigest = await admin.pushBlob('blk/app', config);
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType, digest: layerDigest, size: layer.length }],
        ...extra,
      }));
      const res = await admin.request(`/v2/blk/app/manifests/odd-${mediaType.length}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': OCI_MANIFEST } });
      expect(res.status, mediaType).toBe(403);
      expect((await errorOf(res)).message).toContain(`layer ${layerDigest} path (blob):1: private-key`);
    }
  });

  it('block: lets a clean image through', async () => {
    expect((await push('blk/app', 'clean', { clean: true })).res.status).toBe(201);
    expect((await admin.request('/v2/blk/app/manifests/clean')).status).toBe(200);
  });

  it('quarantine: stores the image but refuses pulls of it and of the layer holding the secret', async () => {
    const pushed = await push('qrt/app', 'v1');
    expect(pushed.res.status).toBe(201);
    const pull = await admin.request('/v2/qrt/app/manifests/v1');
    expect(pull.status).toBe(403);
    expect((await errorOf(pull)).message).toBe(`${pushed.digest} is quarantined: secret scan found 2 problem(s); see portcullis scan findings ${pushed.digest}`);
    const findings = (await (await adminApi(admin, 'GET', `/scan/findings?digest=${pushed.digest}`)).json()) as { blobs: { digest: string }[] };
    expect(findings.blobs.map((b) => b.digest).sort()).toEqual([pushed.lower, pushed.configDigest].sort());
    expect((await admin.request(`/v2/qrt/app/blobs/${pushed.lower}`)).status).toBe(403);
    const list = (await (await adminApi(admin, 'GET', '/quarantine')).json()) as { quarantined: { digest: string; kind: string }[] };
    expect(list.quarantined.filter((q) => q.kind === 'scanner').map((q) => q.digest)).toEqual(expect.arrayContaining([pushed.digest, pushed.lower]));
  });

  it('warn (the default): stores and serves the image at once, and records what the scan found when it is done', async () => {
    const pushed = await push('team/app', 'v1');
    expect(pushed.res.status).toBe(201);
    expect((await admin.request('/v2/team/app/manifests/v1')).status).toBe(200);
    const found = await until(() => withStore(registry, (store) => store.audit.query({ digest: pushed.digest, actions: ['scan.findings'] }, 0, 10)), (rows) => rows.length > 0);
    expect(found[0]).toMatchObject({ repository: 'team/app', credential: 'admin' });
    expect(found[0]?.reason).toMatch(/^secret scan \(warn\): layer sha256:[0-9a-f]{64} path root\/\.ssh\/id_ed25519:1: private-key/);
    expect(found[0]?.reason).not.toContain(githubToken);
  });

  it('off: scans nothing', async () => {
    const pushed = await push('quiet/app', 'v1');
    expect(pushed.res.status).toBe(201);
    const pushes = await withStore(registry, (store) => store.audit.query({ repository: 'quiet/app', actions: ['manifest.push'] }, 0, 10));
    expect(pushes[0]?.reason).toBeNull();
  });

  it('reports findings with fingerprints, and who pulled the affected images', async () => {
    type Findings = { blobs: { digest: string; findings: { rule: string; path: string; fingerprint: string }[] }[] };
    const findings = await until(async () => (await (await adminApi(admin, 'GET', '/scan/findings')).json()) as Findings, (f) => f.blobs.length > 0);
    const text = JSON.stringify(findings);
    expect(text).not.toContain(key.body.slice(0, 40));
    const withKey = findings.blobs.find((b) => b.findings.some((f) => f.rule === 'private-key'))!;
    expect(withKey.findings[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);

    const team = await push('team/app', 'v2');
    expect((await admin.request('/v2/team/app/manifests/v2')).status).toBe(200);
    type Exposure = { blobs: { images: { repository: string; digest: string }[]; pulls: { credential: string; digest: string }[] }[] };
    // The warn-mode scan and the batched pull record both land shortly after the requests.
    const report = await until(
      async () => (await (await adminApi(admin, 'GET', `/scan/exposure?digest=${team.lower}`)).json()) as Exposure,
      (r) => (r.blobs[0]?.pulls.length ?? 0) > 0,
    );
    expect(report.blobs[0]!.images).toEqual(expect.arrayContaining([{ repository: 'team/app', digest: team.digest }]));
    const pulls = report.blobs[0]!.pulls;
    expect(pulls).toContainEqual(expect.objectContaining({ credential: 'admin', digest: team.digest }));
  });

  it('scans each blob once, whichever repository it reaches', async () => {
    const findingsOf = (digest: string, count: number) =>
      until(() => withStore(registry, (store) => store.audit.query({ digest, actions: ['scan.findings'] }, 0, 10)), (rows) => rows.length >= count);
    const once = await push('team/once', 'v1', { salt: 'shared' });
    await findingsOf(once.digest, 1);
    const first = await withStore(registry, (store) => store.trust.scan(once.lower));
    const again = await push('team/again', 'v1', { salt: 'shared' });
    expect(again.digest).toBe(once.digest);
    // Same content, same digests: the second push's report comes from the first scan, not a new one.
    expect((await findingsOf(again.digest, 2)).map((r) => r.repository).sort()).toEqual(['team/again', 'team/once']);
    expect(await withStore(registry, (store) => store.trust.scan(once.lower))).toEqual(first);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStore } from '../auth/support/accounts.js';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { adminApi, cosignSign, errorOf, OCI_MANIFEST, p256, pushIndex, type SigningKey } from './support.js';

describe('tag rules, quarantine and staged delivery', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;
  let key: SigningKey;

  const put = (repository: string, tag: string, manifest: Buffer) =>
    admin.request(`/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': OCI_MANIFEST } });

  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    key = p256();
    const res = await adminApi(admin, 'PUT', '/trust/policy?namespace=rel', { signers: [{ name: 'release', key: key.publicPem }], requireSignature: false, immutableTags: ['v*'] });
    expect(res.status, await res.clone().text()).toBe(200);
  });
  afterAll(() => registry.close());

  describe('immutable tags', () => {
    it('refuses moving an immutable tag, and leaves neither the tag moved nor the new manifest stored', async () => {
      const first = await admin.pushImage('rel/app', 'v1.0');
      const second = await admin.pushImage('rel/app', 'scratch');
      const res = await put('rel/app', 'v1.0', second.manifest);
      expect(res.status).toBe(403);
      expect(await errorOf(res)).toEqual({ code: 'DENIED', message: `tag v1.0 is immutable (pattern v*) and points at ${first.digest}` });
      expect((await admin.request('/v2/rel/app/manifests/v1.0')).headers.get('docker-content-digest')).toBe(first.digest);
      // Pushing the same manifest again is not a move.
      expect((await put('rel/app', 'v1.0', first.manifest)).status).toBe(201);
    });

    it('refuses deleting an immutable tag, its manifest, or the signatures of its manifest', async () => {
      const image = await admin.pushImage('rel/app', 'v2.0');
      const sig = await cosignSign(admin, 'rel/app', image.digest, key);
      for (const ref of ['v2.0', image.digest, sig.tag, sig.digest]) {
        const res = await admin.request(`/v2/rel/app/manifests/${ref}`, { method: 'DELETE' });
        expect(res.status, ref).toBe(403);
        expect((await errorOf(res)).code).toBe('DENIED');
      }
      expect((await admin.request('/v2/rel/app/manifests/v2.0')).status).toBe(200);
      expect((await admin.request(`/v2/rel/app/manifests/${sig.tag}`)).status).toBe(200);
    });

    it("refuses deleting an immutable image's blobs and an immutable index's platform manifests (regression: both were unlinked)", async () => {
      const image = await admin.pushImage('rel/multi', 'amd64');
      const index = await pushIndex(admin, 'rel/multi', 'v3.0', [{ digest: image.digest, size: image.manifest.length }]);
      const child = await admin.request(`/v2/rel/multi/manifests/${image.digest}`, { method: 'DELETE' });
      expect(child.status).toBe(403);
      expect((await errorOf(child)).message).toBe(`${image.digest} is part of ${index.digest}, which carries immutable tag v3.0 (pattern v*)`);
      const blob = await admin.request(`/v2/rel/multi/blobs/${image.layerDigest}`, { method: 'DELETE' });
      expect(blob.status).toBe(403);
      expect((await errorOf(blob)).message).toBe(`blob ${image.layerDigest} is part of ${index.digest}, which carries immutable tag v3.0 (pattern v*)`);
      expect((await admin.request(`/v2/rel/multi/blobs/${image.layerDigest}`)).status).toBe(200);
    });

    it("lets an immutable image's .sig tag gain signatures but not lose them (regression: overwriting it dropped the release's signature)", async () => {
      const image = await admin.pushImage('rel/app', 'v4.0');
      const first = await cosignSign(admin, 'rel/app', image.digest, key);
      const replaced = await admin.pushImage('rel/app', 'junk');
      const overwrite = await admin.request(`/v2/rel/app/manifests/${first.tag}`, { method: 'PUT', body: replaced.manifest, headers: { 'Content-Type': OCI_MANIFEST } });
      expect(overwrite.status).toBe(403);
      expect((await errorOf(overwrite)).message).toContain('the new manifest drops 1 of its signature layer(s)');
      // cosign's way of adding a signature: the old layers plus a new one.
      const old = JSON.parse(Buffer.from(await (await admin.request(`/v2/rel/app/manifests/${first.tag}`)).arrayBuffer()).toString()) as { layers: unknown[] };
      const extra = await admin.pushImage('rel/app', 'extra-layer-source');
      const extraLayer = (JSON.parse(extra.manifest.toString()) as { layers: unknown[] }).layers[0];
      const appended = Buffer.from(JSON.stringify({ ...old, layers: [...old.layers, extraLayer] }));
      expect((await put('rel/app', first.tag, appended)).status).toBe(201);
    });

    it('lets ordinary tags be deleted', async () => {
      await admin.pushImage('rel/app', 'temp');
      expect((await admin.request('/v2/rel/app/manifests/temp', { method: 'DELETE' })).status).toBe(202);
    });
  });

  describe('rollback', () => {
    it('refuses moving a tag back to a manifest it named before, or to one older than its target', async () => {
      const a = await admin.pushImage('rel/svc', 'older');
      const b = await admin.pushImage('rel/svc', 'latest');
      expect((await put('rel/svc', 'latest', a.manifest)).status).toBe(403);
      const c = await admin.pushImage('rel/svc', 'latest');
      const back = await put('rel/svc', 'latest', b.manifest);
      expect(back.status).toBe(403);
      expect((await errorOf(back)).message).toBe(`rollback refused: tag latest pointed at ${b.digest} before`);
      expect((await admin.request('/v2/rel/svc/manifests/latest')).headers.get('docker-content-digest')).toBe(c.digest);
    });

    it('refuses moving a deleted tag back to a manifest it named before (regression: deleting the tag first got around the rule)', async () => {
      const a = await admin.pushImage('rel/svc2', 'latest');
      await admin.pushImage('rel/svc2', 'latest');
      expect((await admin.request('/v2/rel/svc2/manifests/latest', { method: 'DELETE' })).status).toBe(202);
      const back = await put('rel/svc2', 'latest', a.manifest);
      expect(back.status).toBe(403);
      expect((await errorOf(back)).message).toBe(`rollback refused: tag latest pointed at ${a.digest} before`);
    });

    it('lets an admin override it, recorded with the reason in the tag history and the audit log', async () => {
      const history = async () => (await (await adminApi(admin, 'GET', '/tags/history?repository=rel/svc&tag=latest')).json()) as { history: { digest: string; note: string | null; actor: string }[] };
      const before = (await history()).history;
      const target = before[0]!.digest;
      const res = await adminApi(admin, 'POST', '/tags/override', { repository: 'rel/svc', tag: 'latest', digest: target, reason: 'revert bad release' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { overrode: string }).overrode).toMatch(/^rollback refused/);
      const after = (await history()).history;
      expect(after).toHaveLength(before.length + 1);
      expect(after.at(-1)).toMatchObject({ digest: target, actor: 'api:admin' });
      expect(after.at(-1)!.note).toMatch(/^override by api:admin: revert bad release \(rule: rollback refused/);
      const audit = await withStore(registry, (store) => store.audit.query({ actions: ['admin.post'] }, 0, 100));
      expect(audit.some((r) => r.reference === '/admin/v1/tags/override' && r.outcome === 'allowed')).toBe(true);
    });

    it('refuses an override without a reason or for a manifest the repository lacks', async () => {
      expect((await adminApi(admin, 'POST', '/tags/override', { repository: 'rel/svc', tag: 'latest', digest: `sha256:${'0'.repeat(64)}`, reason: 'x' })).status).toBe(404);
      expect((await adminApi(admin, 'POST', '/tags/override', { repository: 'rel/svc', tag: 'latest', digest: `sha256:${'0'.repeat(64)}`, reason: ' ' })).status).toBe(400);
    });
  });

  describe('quarantine', () => {
    it('refuses pulls of a quarantined manifest and its blobs with the reason, and serves them again once released', async () => {
      const image = await admin.pushImage('free/app', 'v1');
      for (const digest of [image.digest, image.layerDigest]) {
        expect((await adminApi(admin, 'POST', '/quarantine', { digest, reason: 'CVE-2026-0001 under review' })).status).toBe(201);
      }
      const manifest = await admin.request('/v2/free/app/manifests/v1');
      expect(manifest.status).toBe(403);
      expect(await errorOf(manifest)).toEqual({ code: 'DENIED', message: `${image.digest} is quarantined: CVE-2026-0001 under review` });
      expect((await admin.request(`/v2/free/app/blobs/${image.layerDigest}`)).status).toBe(403);
      expect((await adminApi(admin, 'POST', '/quarantine', { digest: image.digest, reason: 'again' })).status).toBe(409);

      for (const digest of [image.digest, image.layerDigest]) expect((await adminApi(admin, 'DELETE', `/quarantine/${digest}`)).status).toBe(200);
      expect((await admin.request('/v2/free/app/manifests/v1')).status).toBe(200);
      expect((await admin.request(`/v2/free/app/blobs/${image.layerDigest}`)).status).toBe(200);
      const audit = await withStore(registry, (store) => store.audit.query({ digest: image.digest }, 0, 100));
      expect(audit.filter((r) => r.action.startsWith('admin.')).map((r) => [r.action, r.reason])).toEqual([
        ['admin.post', 'quarantine: CVE-2026-0001 under review'],
        ['admin.post', 'CONFLICT'],
        ['admin.delete', 'release (was quarantined by api:admin: CVE-2026-0001 under review)'],
      ]);
    });

    it('refuses a quarantine without a valid digest or a reason', async () => {
      expect((await adminApi(admin, 'POST', '/quarantine', { digest: 'sha256:nothex', reason: 'x' })).status).toBe(400);
      expect((await adminApi(admin, 'POST', '/quarantine', { digest: `sha256:${'a'.repeat(64)}`, reason: '' })).status).toBe(400);
      expect((await adminApi(admin, 'DELETE', `/quarantine/sha256:${'b'.repeat(64)}`)).status).toBe(404);
    });
  });

  describe('staged delivery', () => {
    it('keeps a new push quarantined until it is signed, then releases it on the next pull and records the release', async () => {
      const res = await adminApi(admin, 'PUT', '/trust/policy?namespace=staged', { signers: [{ name: 'release', key: key.publicPem }], stagedDelivery: true });
      expect(res.status).toBe(200);
      const image = await admin.pushImage('staged/app', 'v1');
      const list = (await (await adminApi(admin, 'GET', '/quarantine')).json()) as { quarantined: { digest: string; kind: string }[] };
      expect(list.quarantined).toContainEqual(expect.objectContaining({ digest: image.digest, kind: 'staged' }));
      const refused = await admin.request('/v2/staged/app/manifests/v1');
      expect(refused.status).toBe(403);
      expect((await errorOf(refused)).message).toContain('is quarantined: staged delivery');

      await cosignSign(admin, 'staged/app', image.digest, key);
      expect((await admin.request('/v2/staged/app/manifests/v1')).status).toBe(200);
      const after = (await (await adminApi(admin, 'GET', '/quarantine')).json()) as { quarantined: { digest: string }[] };
      expect(after.quarantined.map((q) => q.digest)).not.toContain(image.digest);
      const audit = await withStore(registry, (store) => store.audit.query({ digest: image.digest, actions: ['quarantine.release'] }, 0, 10));
      expect(audit[0]?.reason).toMatch(/^staged checks passed/);
    });

    it('is not released by a pull in a namespace with laxer checks (regression: the same bytes pushed elsewhere released it)', async () => {
      expect((await adminApi(admin, 'PUT', '/trust/policy?namespace=lax', { secrets: 'warn' })).status).toBe(200);
      const image = await admin.pushImage('staged/held', 'v1');
      expect((await put('lax/copy', 'v1', image.manifest)).status).toBe(400);
      for (const blob of [image.layer, image.config]) await admin.pushBlob('lax/copy', blob);
      expect((await put('lax/copy', 'v1', image.manifest)).status).toBe(201);
      const elsewhere = await admin.request('/v2/lax/copy/manifests/v1');
      expect(elsewhere.status).toBe(403);
      expect((await errorOf(elsewhere)).message).toContain('staged delivery: waiting until the checks of namespace staged pass');
      expect((await admin.request('/v2/staged/held/manifests/v1')).status).toBe(403);
    });
  });
});

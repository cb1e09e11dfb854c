import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/storage/metadata/index.js';
import { withStore } from '../auth/support/accounts.js';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { adminApi, bundleReferrer, cosignSign, errorOf, p256, pushIndex, simpleSigningPayload, type SigningKey } from './support.js';

/** Waits for the batched read records to reach the audit log, until one matches `wanted`. */
async function auditedPulls(registry: TestRegistry, digest: string, wanted: (row: AuditRow) => boolean): Promise<AuditRow[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await withStore(registry, (store) => store.audit.query({ digest, actions: ['manifest.pull'] }, 0, 100));
    if (rows.some(wanted) || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('trust policy at pull: key-based cosign signatures', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;
  let release: SigningKey;
  let unsigned: Awaited<ReturnType<RegistryClient['pushImage']>>;
  let signed: Awaited<ReturnType<RegistryClient['pushImage']>>;

  const setPolicy = async (policy: unknown) => {
    const res = await adminApi(admin, 'PUT', '/trust/policy?namespace=prod', policy);
    expect(res.status, await res.clone().text()).toBe(200);
  };

  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    release = p256();
    unsigned = await admin.pushImage('prod/app', 'unsigned');
    signed = await admin.pushImage('prod/app', 'signed');
    await cosignSign(admin, 'prod/app', signed.digest, release);
    await setPolicy({ mode: 'enforce', signers: [{ name: 'release', key: release.publicPem }] });
  });
  afterAll(() => registry.close());

  it('refuses an unsigned image by tag and by digest, GET and HEAD, with DENIED naming what is missing', async () => {
    for (const ref of ['unsigned', unsigned.digest]) {
      const res = await admin.request(`/v2/prod/app/manifests/${ref}`);
      expect(res.status).toBe(403);
      const error = await errorOf(res);
      expect(error.code).toBe('DENIED');
      expect(error.message).toContain('no valid signature by a trusted signer (release): the image has no signatures');
      expect((await admin.request(`/v2/prod/app/manifests/${ref}`, { method: 'HEAD' })).status).toBe(403);
    }
  });

  it('serves the signed image, and the signature manifest itself', async () => {
    const res = await admin.request('/v2/prod/app/manifests/signed');
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(signed.digest);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(signed.manifest);
    expect((await admin.request(`/v2/prod/app/manifests/${signed.digest.replace(':', '-')}.sig`)).status).toBe(200);
  });

  it('records the refusal and its reason in the audit log', async () => {
    const rows = await auditedPulls(registry, unsigned.digest, (r) => r.outcome === 'denied');
    const denied = rows.find((r) => r.outcome === 'denied');
    expect(denied?.reason).toContain('trust policy of namespace prod: no valid signature');
  });

  it('refuses a signature by another key, and one whose payload names another digest', async () => {
    const other = await admin.pushImage('prod/app', 'other-key');
    await cosignSign(admin, 'prod/app', other.digest, p256());
    const res = await admin.request('/v2/prod/app/manifests/other-key');
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toContain('signature does not verify with any trusted key');

    const swapped = await admin.pushImage('prod/app', 'swapped');
    await cosignSign(admin, 'prod/app', swapped.digest, release, simpleSigningPayload('prod/app', signed.digest));
    const refused = await admin.request('/v2/prod/app/manifests/swapped');
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).message).toContain(`payload names ${signed.digest}`);
  });

  it('lets a signature pushed later take effect on the next pull (the verdict cache is keyed by what is attached)', async () => {
    const late = await admin.pushImage('prod/app', 'late');
    expect((await admin.request('/v2/prod/app/manifests/late')).status).toBe(403);
    await cosignSign(admin, 'prod/app', late.digest, release);
    expect((await admin.request('/v2/prod/app/manifests/late')).status).toBe(200);
  });

  it('serves the platform manifests of a signed index by digest, and refuses those of an unsigned one', async () => {
    const amd = await admin.pushImage('prod/multi', 'amd64');
    const arm = await admin.pushImage('prod/multi', 'arm64');
    const index = await pushIndex(admin, 'prod/multi', 'v1', [
      { digest: amd.digest, size: amd.manifest.length },
      { digest: arm.digest, size: arm.manifest.length },
    ]);
    expect((await admin.request('/v2/prod/multi/manifests/v1')).status).toBe(403);
    expect((await admin.request(`/v2/prod/multi/manifests/${amd.digest}`)).status).toBe(403);
    await cosignSign(admin, 'prod/multi', index.digest, release);
    expect((await admin.request('/v2/prod/multi/manifests/v1')).status).toBe(200);
    expect((await admin.request(`/v2/prod/multi/manifests/${amd.digest}`)).status).toBe(200);
  });

  it('accepts a cosign 3 Sigstore bundle stored as a referrer, and refuses one signed by another key', async () => {
    const image = await admin.pushImage('prod/app', 'bundled');
    expect((await admin.request('/v2/prod/app/manifests/bundled')).status).toBe(403);
    await bundleReferrer(admin, 'prod/app', { digest: image.digest, size: image.manifest.length }, p256());
    const refused = await admin.request('/v2/prod/app/manifests/bundled');
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).message).toMatch(/referrer sha256:[0-9a-f]{64}, layer 0: /);
    await bundleReferrer(admin, 'prod/app', { digest: image.digest, size: image.manifest.length }, release);
    expect((await admin.request('/v2/prod/app/manifests/bundled')).status).toBe(200);
    const check = (await (await adminApi(admin, 'GET', '/trust/check?repository=prod/app&reference=bundled')).json()) as { satisfied: string[] };
    expect(check.satisfied).toEqual(['signature by release (sigstore-bundle)']);
  });

  it('in audit mode serves the unsigned image and records what enforcing would have refused', async () => {
    await setPolicy({ mode: 'audit', signers: [{ name: 'release', key: release.publicPem }] });
    const res = await admin.request('/v2/prod/app/manifests/unsigned');
    expect(res.status).toBe(200);
    // trust check says what the pull gets (regression: it said "refused" while the pull was served).
    const check = (await (await adminApi(admin, 'GET', '/trust/check?repository=prod/app&reference=unsigned')).json()) as { allowed: boolean; notes: string[] };
    expect(check.allowed).toBe(true);
    expect(check.notes[0]).toMatch(/^audit mode: enforcing would refuse \(trust policy of namespace prod: no valid signature/);
    const sig = (await (await adminApi(admin, 'GET', `/trust/check?repository=prod/app&reference=${signed.digest.replace(':', '-')}.sig`)).json()) as { allowed: boolean; notes: string[] };
    expect(sig).toMatchObject({ allowed: true, notes: ['exempt from signature checks: an attachment (signature, attestation or SBOM)'] });
    const wouldRefuse = (r: AuditRow) => r.outcome === 'allowed' && (r.reason ?? '').startsWith('audit mode, would refuse: trust policy of namespace prod');
    expect((await auditedPulls(registry, unsigned.digest, wouldRefuse)).some(wouldRefuse)).toBe(true);
    await setPolicy({ mode: 'enforce', signers: [{ name: 'release', key: release.publicPem }] });
    expect((await admin.request('/v2/prod/app/manifests/unsigned')).status).toBe(403);
  });

  it('leaves repositories outside the namespace alone', async () => {
    await admin.pushImage('dev/app', 'v1');
    expect((await admin.request('/v2/dev/app/manifests/v1')).status).toBe(200);
  });

  it('explains the trust stage of a pull from the namespace', async () => {
    const res = await adminApi(admin, 'GET', '/explain?subject=admin&repository=prod/app&action=pull');
    const body = (await res.json()) as { steps: { stage: string; detail: string }[] };
    expect(body.steps.find((s) => s.stage === 'trust')?.detail).toMatch(/^policy of namespace prod v\d+ \(enforce\): each manifest pulled needs a signature by release/);
  });

  it('answers trust check with the verdict and its reasons', async () => {
    const res = await adminApi(admin, 'GET', '/trust/check?repository=prod/app&reference=unsigned');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ digest: unsigned.digest, namespace: 'prod', allowed: false });
    const ok = (await (await adminApi(admin, 'GET', '/trust/check?repository=prod/app&reference=signed')).json()) as { allowed: boolean; satisfied: string[] };
    expect(ok).toMatchObject({ allowed: true, satisfied: ['signature by release (cosign)'] });
  });

  it('refuses a policy with bad key material without echoing it, and a private key outright', async () => {
    const bad = await adminApi(admin, 'PUT', '/trust/policy?namespace=prod', { signers: [{ name: 'k', key: '-----BEGIN PUBLIC KEY-----\nnot-a-key\n-----END PUBLIC KEY-----' }] });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).toContain('signer k: key is not a PEM public key');
    expect(text).not.toContain('not-a-key');
    const secret = release.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const priv = await adminApi(admin, 'PUT', '/trust/policy?namespace=prod', { signers: [{ name: 'k', key: secret }] });
    expect(priv.status).toBe(400);
    const body = await priv.text();
    expect(body).toContain('key is a private key');
    expect(body).not.toContain(secret.split('\n')[1]);
  });
});

describe('trust policy regressions', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    const res = await adminApi(admin, 'PUT', '/trust/policy?namespace=prod', { signers: [{ name: 'release', key: p256().publicPem }] });
    expect(res.status).toBe(200);
  });
  afterAll(() => registry.close());

  it('does not exempt an unsigned runnable image that names a subject or a signature artifactType (it is not an attachment)', async () => {
    const target = await admin.pushImage('prod/app', 'target');
    await admin.pushImage('prod/app', 'with-subject', { subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: target.digest, size: target.manifest.length } });
    await admin.pushImage('prod/app', 'posing', { artifactType: 'application/vnd.cncf.notary.signature' });
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: target.digest, size: target.manifest.length };
    for (const [tag, mediaType, extra] of [
      ['wasm', 'application/vnd.wasm.content.layer.v1+wasm', { subject }],
      ['upper', 'application/vnd.oci.image.layer.v1.TAR+gzip', { subject }],
      ['octets', 'application/octet-stream', { artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' }],
    ] as const) {
      const layer = Buffer.from(`runnable ${tag}`);
      const layerDigest = await admin.pushBlob('prod/app', layer);
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: target.configDigest, size: target.config.length }, layers: [{ mediaType, digest: layerDigest, size: layer.length }], ...extra });
      expect((await admin.request(`/v2/prod/app/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(201);
    }
    for (const tag of ['with-subject', 'posing', 'wasm', 'upper', 'octets']) {
      const res = await admin.request(`/v2/prod/app/manifests/${tag}`);
      expect(res.status, tag).toBe(403);
    }
  });
});

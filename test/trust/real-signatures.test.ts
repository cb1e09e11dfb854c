import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { fixture, fixtureJson, FIXTURES } from '../helpers/signature-fixtures.js';
import { pushLayout } from './layout.js';
import { adminApi, errorOf } from './support.js';

const E2E = path.join(FIXTURES, 'notation/notation-e2e/oci_layout');
const SLSA = path.join(FIXTURES, 'attestations/slsa-github-generator-container-v2.1.0/oci-layout');
const SLSA_INDEX = 'sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122';
const SLSA_ATT = 'sha256:21454caf3a160dfbe6359f0501aa8401c6c0f2c7a8b71380ea21f8c4b48b64fe';
const SLSA_AMD64 = 'sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69';
const GENERATOR = 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml';

/** Signatures made by the real tools (notation, cosign with slsa-github-generator), pushed as those tools push them. */
describe('trust policy at pull with signatures made by real tools', () => {
  let registry: TestRegistry;
  let admin: RegistryClient;
  const policy = async (namespace: string, document: unknown) => {
    const res = await adminApi(admin, 'PUT', `/trust/policy?namespace=${namespace}`, document);
    expect(res.status, await res.clone().text()).toBe(200);
  };

  beforeAll(async () => {
    registry = await startRegistry();
    admin = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    await pushLayout(admin, path.join(E2E, 'e2e-valid-signature'), 'notary/valid');
    await pushLayout(admin, path.join(E2E, 'e2e-expired-signature'), 'notary/expired');
    await pushLayout(admin, path.join(E2E, 'e2e-invalid-signature'), 'notary/invalid');
    // Where cosign pushes an attestation: the tag sha256-<index hex>.att.
    await pushLayout(admin, SLSA, 'slsa/example', { [SLSA_ATT]: `${SLSA_INDEX.replace(':', '-')}.att` });
  });
  afterAll(() => registry.close());

  describe('notation (JWS) against a trust store', () => {
    const e2e = fixture('notation/notation-e2e/truststore/e2e.crt').toString();

    it('serves the image signed by the trusted certificate', async () => {
      await policy('notary', { signers: [{ name: 'e2e', x509: { roots: e2e, subject: 'C=US, ST=WA, L=Seattle, O=Notary, CN=e2e' } }] });
      const res = await admin.request('/v2/notary/valid/manifests/v1');
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe('sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9');
    });

    it('refuses an expired signature and an envelope that is not one, naming why', async () => {
      const expired = await admin.request('/v2/notary/expired/manifests/v1');
      expect(expired.status).toBe(403);
      expect((await errorOf(expired)).message).toMatch(/signature expired at 2023-06-27/);
      const invalid = await admin.request('/v2/notary/invalid/manifests/v1');
      expect(invalid.status).toBe(403);
      expect((await errorOf(invalid)).message).toContain('no valid signature by a trusted signer (e2e)');
    });

    it('refuses the same signature when the policy wants another subject', async () => {
      await policy('notary', { signers: [{ name: 'e2e', x509: { roots: e2e, subject: 'CN=release' } }] });
      const res = await admin.request('/v2/notary/valid/manifests/v1');
      expect(res.status).toBe(403);
      expect((await errorOf(res)).message).toContain('signed, but the certificate subject is "C=US, ST=WA, L=Seattle, O=Notary, CN=e2e", not "CN=release"');
    });
  });

  describe('SLSA provenance attested keyless by slsa-github-generator (cosign .att)', () => {
    const root = fixtureJson('sigstore-bundles/trusted_root.public-good.json');
    const signer = { name: 'slsa', keyless: { trustedRoot: root, identity: `${GENERATOR}@refs/tags/v*`, issuer: 'https://token.actions.githubusercontent.com' } };

    it('serves the index and its platform manifest when the provenance names the expected builder', async () => {
      await policy('slsa', {
        signers: [signer],
        requireSignature: false,
        attestations: [{ predicateType: 'https://slsa.dev/provenance/v0.2', signers: ['slsa'], match: { 'builder.id': `${GENERATOR}@refs/tags/v2.1.0` } }],
      });
      const index = await admin.request(`/v2/slsa/example/manifests/${SLSA_INDEX}`);
      expect(index.status).toBe(200);
      expect((await admin.request(`/v2/slsa/example/manifests/${SLSA_AMD64}`)).status).toBe(200);
    });

    it('refuses it when the provenance names another builder, or another predicate is required', async () => {
      await policy('slsa', {
        signers: [signer],
        requireSignature: false,
        attestations: [{ predicateType: 'https://slsa.dev/provenance/v0.2', match: { 'builder.id': 'https://builder.example/*' } }],
      });
      const wrongBuilder = await admin.request(`/v2/slsa/example/manifests/${SLSA_INDEX}`);
      expect(wrongBuilder.status).toBe(403);
      expect((await errorOf(wrongBuilder)).message).toContain(`attestation https://slsa.dev/provenance/v0.2 does not match the policy: builder.id is "${GENERATOR}@refs/tags/v2.1.0", wanted "https://builder.example/*"`);

      await policy('slsa', { signers: [signer], requireSignature: false, attestations: [{ predicateType: 'https://slsa.dev/provenance/v1' }] });
      const missing = await admin.request(`/v2/slsa/example/manifests/${SLSA_AMD64}`);
      expect(missing.status).toBe(403);
      expect((await errorOf(missing)).message).toContain('missing attestation https://slsa.dev/provenance/v1');
    });

    it('refuses it when the workflow identity is not the trusted one, and requires a signature where one is asked for', async () => {
      const other = { ...signer, keyless: { ...signer.keyless, identity: 'https://github.com/acme/*' } };
      await policy('slsa', { signers: [other], requireSignature: false, attestations: [{ predicateType: 'https://slsa.dev/provenance/v0.2' }] });
      const res = await admin.request(`/v2/slsa/example/manifests/${SLSA_INDEX}`);
      expect(res.status).toBe(403);
      expect((await errorOf(res)).message).toContain('missing attestation https://slsa.dev/provenance/v0.2');

      await policy('slsa', { signers: [signer] });
      const unsigned = await admin.request(`/v2/slsa/example/manifests/${SLSA_INDEX}`);
      expect(unsigned.status).toBe(403);
      expect((await errorOf(unsigned)).message).toContain('no valid signature by a trusted signer (slsa)');
    });
  });
});

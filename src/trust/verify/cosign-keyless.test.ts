import { describe, expect, it } from 'vitest';
import {
  anchors,
  fixture,
  fixtureDigest,
  fixtureJson,
  fixtureKey,
  signatureLayer,
  store,
} from '../../../test/helpers/signature-fixtures.js';
import { verifyCosignLayer, type CosignLayer } from './cosign.js';

const publicGood = { name: 'public-good', trustedRoot: fixtureJson('sigstore-bundles', 'trusted_root.public-good.json') };
const staging = { name: 'staging', trustedRoot: fixtureJson('sigstore-bundles', 'trusted_root.staging.json') };

describe('keyless cosign signature (Fulcio certificate + Rekor bundle annotations)', () => {
  const DIR = ['cosign-keyless', 'containers-image-fulcio-rekor'] as const;
  const layer = signatureLayer(...DIR, 'signature-1');
  const target = fixtureDigest(...DIR, 'manifest.json');

  it('verifies against the public-good trusted root at the Rekor time, naming signer and issuer', () => {
    const outcome = verifyCosignLayer(layer, target, anchors({ sigstoreRoots: [staging, publicGood] }), 's');

    expect(outcome).toEqual({
      ok: true,
      evidence: {
        format: 'cosign',
        kind: 'signature',
        anchor: 'public-good',
        identity: 'mitr@redhat.com',
        issuer: 'https://github.com/login/oauth',
        source: 's',
      },
    });
  });

  it('is refused for another manifest', () => {
    const other = fixtureDigest('cosign-legacy', 'dir-img-cosign-valid', 'manifest.json');
    const outcome = verifyCosignLayer(layer, other, anchors({ sigstoreRoots: [publicGood] }), 's');

    expect(outcome).toMatchObject({ ok: false, problem: `payload names ${target} not ${other}` });
  });

  it('is refused when no Sigstore root is configured', () => {
    const outcome = verifyCosignLayer(layer, target, anchors({ keys: [{ name: 'k', key: fixtureKey('cosign-legacy', 'cosign.pub') }] }), 's');

    expect(outcome).toMatchObject({ ok: false, problem: 'keyless signature, but no Sigstore trusted root is configured' });
  });

  it('is refused by a store holding the Fulcio root, because the leaf expired ten minutes after signing', () => {
    const fulcio = store('fulcio-as-ca', fixture(...DIR, 'fulcio_v1.crt.pem'), fixture(...DIR, 'fulcio-chain'));
    const outcome = verifyCosignLayer(layer, target, anchors({ certificateStores: [fulcio] }), 's');

    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.problem).toMatch(/^certificate store "fulcio-as-ca": certificate .* is not valid at /);
  });

  it('is refused by the staging root alone', () => {
    const outcome = verifyCosignLayer(layer, target, anchors({ sigstoreRoots: [staging] }), 's');

    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.problem).toMatch(/^trusted root "staging": /);
  });

  it('is refused when the Rekor bundle is for another signature', () => {
    const other = signatureLayer('cosign-legacy', 'dir-img-cosign-key-rekor-valid', 'signature-1');
    const swapped = { ...layer, annotations: { ...layer.annotations, 'dev.sigstore.cosign/bundle': other.annotations['dev.sigstore.cosign/bundle']! } };
    const outcome = verifyCosignLayer(swapped, target, anchors({ sigstoreRoots: [publicGood] }), 's');

    expect(outcome).toMatchObject({ ok: false, problem: expect.stringMatching(/^trusted root "public-good": /) });
  });
});

describe('keyless cosign attestation (.att layer with a DSSE envelope)', () => {
  const DIR = ['attestations', 'slsa-github-generator-container-v2.1.0', 'oci-layout'] as const;
  const blob = (hex: string) => fixture(...DIR, 'blobs', 'sha256', hex);
  const attManifest = JSON.parse(blob('21454caf3a160dfbe6359f0501aa8401c6c0f2c7a8b71380ea21f8c4b48b64fe').toString('utf8')) as {
    layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
  };
  const descriptor = attManifest.layers[0]!;
  const layer: CosignLayer = {
    mediaType: descriptor.mediaType,
    annotations: descriptor.annotations,
    blob: blob(descriptor.digest.slice('sha256:'.length)),
  };
  const index = 'sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122';

  it('verifies as a SLSA provenance attestation of the image index, naming the workflow', () => {
    const outcome = verifyCosignLayer(layer, index, anchors({ sigstoreRoots: [publicGood] }), 'tag sha256-234e….att, layer 0');

    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.evidence).toMatchObject({
      format: 'cosign',
      kind: 'attestation',
      anchor: 'public-good',
      identity: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0',
      issuer: 'https://token.actions.githubusercontent.com',
      predicateType: 'https://slsa.dev/provenance/v0.2',
    });
    expect(outcome.evidence.predicate).toMatchObject({ builder: expect.any(Object) });
  });

  it('is refused for the platform manifest, which the statement does not name', () => {
    const platform = 'sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69';
    const outcome = verifyCosignLayer(layer, platform, anchors({ sigstoreRoots: [publicGood] }), 's');

    expect(outcome).toMatchObject({ ok: false, problem: `statement subjects do not include ${platform}` });
  });

  it('is refused when the envelope payload was altered', () => {
    const envelope = JSON.parse(layer.blob.toString('utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Record<string, unknown>;
    statement.predicateType = 'https://example.com/forged';
    const forged = { ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') };
    const outcome = verifyCosignLayer({ ...layer, blob: Buffer.from(JSON.stringify(forged)) }, index, anchors({ sigstoreRoots: [publicGood] }), 's');

    expect(outcome).toMatchObject({ ok: false, problem: expect.stringMatching(/^signature does not verify with the key of certificate/) });
  });
});

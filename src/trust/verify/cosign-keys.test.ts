import { constants, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { anchors, fixtureJson, fixtureKey } from '../../../test/helpers/signature-fixtures.js';
import { DSSE_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE, verifyCosignLayer, type CosignLayer } from './cosign.js';
import { pae } from './dsse.js';

/** Key pairs of every type cosign can sign with, and how each signs (hash and padding). */
const SIGNERS = [
  { type: 'ECDSA P-256', pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }), sign: (d: Buffer, k: KeyObject) => sign('sha256', d, k) },
  { type: 'ECDSA P-384', pair: generateKeyPairSync('ec', { namedCurve: 'P-384' }), sign: (d: Buffer, k: KeyObject) => sign('sha384', d, k) },
  { type: 'Ed25519', pair: generateKeyPairSync('ed25519'), sign: (d: Buffer, k: KeyObject) => sign(null, d, k) },
  { type: 'RSA PKCS#1 v1.5', pair: generateKeyPairSync('rsa', { modulusLength: 2048 }), sign: (d: Buffer, k: KeyObject) => sign('sha256', d, k) },
  {
    type: 'RSA PSS',
    pair: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    sign: (d: Buffer, k: KeyObject) => sign('sha256', d, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
  },
] as const;

const TARGET = `sha256:${createHash('sha256').update('a manifest').digest('hex')}`;
const OTHER = `sha256:${createHash('sha256').update('another manifest').digest('hex')}`;

function simpleSigning(digest: string, digestKey = 'docker-manifest-digest'): Buffer {
  return Buffer.from(
    `{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"${digestKey}":"${digest}"},` +
      `"type":"cosign container image signature"},"optional":null}`,
  );
}

function sigLayer(payload: Buffer, signature: Buffer): CosignLayer {
  return {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    annotations: { 'dev.cosignproject.cosign/signature': signature.toString('base64') },
    blob: payload,
  };
}

function attLayer(statementDigest: string, signWith: (data: Buffer) => Buffer): CosignLayer {
  const statement = Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v0.1',
    subject: [{ name: 'registry.example/app', digest: { sha256: statementDigest.slice('sha256:'.length) } }],
    predicateType: 'https://example.com/test/v1',
    predicate: { ok: true },
  }));
  const envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload: statement.toString('base64'),
    signatures: [{ keyid: '', sig: signWith(pae('application/vnd.in-toto+json', statement)).toString('base64') }],
  };

  return { mediaType: DSSE_MEDIA_TYPE, annotations: { predicateType: 'https://example.com/test/v1' }, blob: Buffer.from(JSON.stringify(envelope)) };
}

for (const signer of SIGNERS) {
  describe(`cosign signatures with a ${signer.type} key made in the test`, () => {
    const trusted = anchors({ keys: [{ name: signer.type, key: signer.pair.publicKey }] });
    const signWith = (data: Buffer) => signer.sign(data, signer.pair.privateKey);

    it('a simple-signing payload of the target verifies and names the key', () => {
      const payload = simpleSigning(TARGET);

      expect(verifyCosignLayer(sigLayer(payload, signWith(payload)), TARGET, trusted, 's')).toEqual({
        ok: true,
        evidence: { format: 'cosign', kind: 'signature', anchor: signer.type, source: 's' },
      });
    });

    it('a payload changed after signing is refused', () => {
      const signature = signWith(simpleSigning(TARGET));
      const tampered = simpleSigning(TARGET).toString('utf8').replace('registry.example/app', 'registry.example/evil');

      expect(verifyCosignLayer(sigLayer(Buffer.from(tampered), signature), TARGET, trusted, 's')).toMatchObject({
        ok: false,
        problem: 'signature does not verify with any trusted key',
      });
    });

    it('a payload naming another manifest is refused', () => {
      const payload = simpleSigning(OTHER);

      expect(verifyCosignLayer(sigLayer(payload, signWith(payload)), TARGET, trusted, 's')).toMatchObject({
        ok: false,
        problem: `payload names ${OTHER} not ${TARGET}`,
      });
    });

    it('a DSSE attestation of the target verifies with its predicate', () => {
      expect(verifyCosignLayer(attLayer(TARGET, signWith), TARGET, trusted, 's')).toEqual({
        ok: true,
        evidence: {
          format: 'cosign',
          kind: 'attestation',
          anchor: signer.type,
          predicateType: 'https://example.com/test/v1',
          predicate: { ok: true },
          source: 's',
        },
      });
    });

    it('a DSSE signature over the bare payload instead of PAE is refused', () => {
      const layer = attLayer(TARGET, signWith);
      const envelope = JSON.parse(layer.blob.toString('utf8')) as { payload: string; signatures: { sig: string }[] };
      envelope.signatures[0]!.sig = signWith(Buffer.from(envelope.payload, 'base64')).toString('base64');

      expect(verifyCosignLayer({ ...layer, blob: Buffer.from(JSON.stringify(envelope)) }, TARGET, trusted, 's')).toMatchObject({
        ok: false,
        problem: 'signature does not verify with any trusted key',
      });
    });

    it('a DSSE attestation of another manifest is refused', () => {
      expect(verifyCosignLayer(attLayer(OTHER, signWith), TARGET, trusted, 's')).toMatchObject({
        ok: false,
        problem: `statement subjects do not include ${TARGET}`,
      });
    });
  });
}

describe('key choice and payload reading', () => {
  const [p256, , ed25519] = SIGNERS;
  const payload = simpleSigning(TARGET);
  const signature = p256.sign(payload, p256.pair.privateKey);

  it('the key that verifies is named, whatever its place in the list', () => {
    const trusted = anchors({ keys: [{ name: 'ed', key: ed25519.pair.publicKey }, { name: 'p256', key: p256.pair.publicKey }] });

    expect(verifyCosignLayer(sigLayer(payload, signature), TARGET, trusted, 's')).toMatchObject({ ok: true, evidence: { anchor: 'p256' } });
  });

  it('a signature by a key of another type is refused', () => {
    const trusted = anchors({ keys: [{ name: 'ed', key: ed25519.pair.publicKey }] });

    expect(verifyCosignLayer(sigLayer(payload, signature), TARGET, trusted, 's')).toMatchObject({ ok: false });
  });

  it('the digest field is read case-insensitively, as Go decodes it', () => {
    const spelled = simpleSigning(TARGET, 'Docker-manifest-digest');
    const trusted = anchors({ keys: [{ name: 'p256', key: p256.pair.publicKey }] });

    expect(verifyCosignLayer(sigLayer(spelled, p256.sign(spelled, p256.pair.privateKey)), TARGET, trusted, 's').ok).toBe(true);
  });

  it('a payload of another type is refused', () => {
    const other = Buffer.from(`{"critical":{"image":{"docker-manifest-digest":"${TARGET}"},"type":"atomic container signature"}}`);
    const trusted = anchors({ keys: [{ name: 'p256', key: p256.pair.publicKey }] });

    expect(verifyCosignLayer(sigLayer(other, p256.sign(other, p256.pair.privateKey)), TARGET, trusted, 's')).toMatchObject({
      ok: false,
      problem: 'payload type is "atomic container signature", not "cosign container image signature"',
    });
  });

  it('a layer without a signature annotation is refused', () => {
    const layer = { ...sigLayer(payload, signature), annotations: {} };

    expect(verifyCosignLayer(layer, TARGET, anchors({}), 's')).toMatchObject({
      ok: false,
      problem: 'layer has no base64 dev.cosignproject.cosign/signature annotation',
    });
  });
});

describe('Google Cloud Build provenance envelope (two signatures, one of them not DSSE)', () => {
  const DIR = ['attestations', 'gcb-provenance-keyed'] as const;
  const summary = fixtureJson(...DIR, 'gcloud-container-github-tag.json') as { provenance_summary: { provenance: { envelope: unknown }[] } };
  const layer: CosignLayer = {
    mediaType: DSSE_MEDIA_TYPE,
    annotations: {},
    blob: Buffer.from(JSON.stringify(summary.provenance_summary.provenance[0]!.envelope)),
  };
  const image = 'sha256:87db6d5226440e72f7134b71163df45282127a3f7b0600c946683cb2f43a70a9';

  it('verifies with the global PAE key', () => {
    const trusted = anchors({ keys: [{ name: 'gcb-global', key: fixtureKey(...DIR, 'global-pae-provenanceSigner_1.key') }] });

    expect(verifyCosignLayer(layer, image, trusted, 's')).toMatchObject({
      ok: true,
      evidence: { kind: 'attestation', anchor: 'gcb-global', predicateType: 'https://slsa.dev/provenance/v0.1' },
    });
  });

  it('is refused with only the regional key, whose signature is over the bare payload', () => {
    const trusted = anchors({ keys: [{ name: 'gcb-us-west2', key: fixtureKey(...DIR, 'us-west2.key') }] });

    expect(verifyCosignLayer(layer, image, trusted, 's')).toMatchObject({ ok: false, problem: 'signature does not verify with any trusted key' });
  });
});

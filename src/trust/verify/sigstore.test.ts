import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { anchors, fixture, fixtureJson, fixtureKey } from '../../../test/helpers/signature-fixtures.js';
import { pae } from './dsse.js';
import { COSIGN_SIGN_PREDICATE, verifySigstoreBundle } from './sigstore.js';

const V3 = ['cosign-keyless', 'cosign-v3-bundle'] as const;
const EMPTY_IMAGE = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4';
const OTHER = `sha256:${'ab'.repeat(32)}`;

describe('cosign v3 referrer bundle (keyless DSSE attestation)', () => {
  const blob = fixture(...V3, 'oci-attestation.sigstore.json');
  const pgi = anchors({ sigstoreRoots: [{ name: 'pgi', trustedRoot: fixtureJson(...V3, 'trusted_root_pgi.json') }] });

  it('verifies as an attestation of its subject, naming signer, issuer and predicate', () => {
    const outcome = verifySigstoreBundle(blob, EMPTY_IMAGE, pgi, 'referrer sha256:…, layer 0');

    expect(outcome).toMatchObject({
      ok: true,
      evidence: {
        format: 'sigstore-bundle',
        kind: 'attestation',
        anchor: 'pgi',
        identity: 'cody@soyland.com',
        issuer: 'https://github.com/login/oauth',
        predicateType: 'https://cosign.sigstore.dev/attestation/v1',
        source: 'referrer sha256:…, layer 0',
      },
    });
  });

  it('is refused for another target', () => {
    expect(verifySigstoreBundle(blob, OTHER, pgi, 's')).toEqual({
      ok: false,
      source: 's',
      problem: `statement subjects do not include ${OTHER}`,
    });
  });

  it('is refused when no trusted root is configured, even with keys', () => {
    const keysOnly = anchors({ keys: [{ name: 'k', key: fixtureKey('cosign-legacy', 'cosign.pub') }] });

    expect(verifySigstoreBundle(blob, EMPTY_IMAGE, keysOnly, 's')).toMatchObject({
      ok: false,
      problem: 'keyless signature, but no Sigstore trusted root is configured',
    });
  });

  it('is refused with an unknown bundle media type', () => {
    const json = JSON.parse(blob.toString('utf8')) as Record<string, unknown>;
    json.mediaType = 'application/vnd.dev.sigstore.bundle.v0.9+json';

    expect(verifySigstoreBundle(Buffer.from(JSON.stringify(json)), EMPTY_IMAGE, pgi, 's')).toMatchObject({
      ok: false,
      problem: 'bundle media type application/vnd.dev.sigstore.bundle.v0.9+json is not a supported Sigstore bundle version',
    });
  });
});

describe('sigstore-go DSSE bundles (SLSA provenance)', () => {
  const SG = ['sigstore-bundles', 'sigstore-go'] as const;
  const publicGood = anchors({ sigstoreRoots: [{ name: 'public-good', trustedRoot: fixtureJson(...SG, 'trusted-roots', 'public-good.json') }] });
  /** The statement's first subject digest, the target a registry would be asked about. */
  function subjectOf(file: string[]): string {
    const bundle = fixtureJson(...SG, ...file) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      subject: { digest: Record<string, string> }[];
    };
    const [algorithm, hex] = Object.entries(statement.subject[0]!.digest)[0]!;

    return `${algorithm}:${hex}`;
  }

  it('SLSA v1 provenance of sigstore-js verifies, naming the release workflow', () => {
    const file = ['bundles', 'sigstore.js@2.0.0-provenance.sigstore.json'];
    const outcome = verifySigstoreBundle(fixture(...SG, ...file), subjectOf(file), publicGood, 's');

    expect(outcome).toMatchObject({
      ok: true,
      evidence: {
        identity: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
        issuer: 'https://token.actions.githubusercontent.com',
        predicateType: 'https://slsa.dev/provenance/v1',
      },
    });
  });

  it('an envelope with two signatures is refused', () => {
    const file = ['bundles', 'dsse-2sigs.sigstore.json'];

    expect(verifySigstoreBundle(fixture(...SG, ...file), subjectOf(file), publicGood, 's')).toMatchObject({
      ok: false,
      problem: 'bundle is malformed: content.dsseEnvelope.signatures',
    });
  });

  it("npm's key-signed publish attestation verifies with npm's key and names it", () => {
    const file = ['examples', 'bundle-publish.json'];
    const npm = anchors({ keys: [{ name: 'npm', key: fixtureKey(...SG, 'examples', 'publish_key.pub') }] });

    expect(verifySigstoreBundle(fixture(...SG, ...file), subjectOf(file), npm, 's')).toMatchObject({
      ok: true,
      evidence: { kind: 'attestation', anchor: 'npm', predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1' },
    });
  });
});

/** Key-signed v0.3 bundles made here, as cosign v3 writes them with `--key`. */
describe('key-signed bundles made in the test', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const trusted = anchors({ keys: [{ name: 'release', key: publicKey }] });
  const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
  const target = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;

  function dsseBundle(predicateType: string, subject: string, key: KeyObject = privateKey): Buffer {
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'registry.example/app', digest: { sha256: subject.slice('sha256:'.length) } }],
      predicateType,
      predicate: { note: 'made in a test' },
    };
    const payload = Buffer.from(JSON.stringify(statement));
    const sig = sign('sha256', pae('application/vnd.in-toto+json', payload), key);

    return Buffer.from(JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'release' }, tlogEntries: [] },
      dsseEnvelope: { payload: payload.toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
    }));
  }

  function messageBundle(signed: Buffer): Buffer {
    return Buffer.from(JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'release' }, tlogEntries: [] },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(signed).digest('base64') },
        signature: sign('sha256', signed, privateKey).toString('base64'),
      },
    }));
  }

  it("cosign's signing predicate counts as a signature, not an attestation", () => {
    expect(verifySigstoreBundle(dsseBundle(COSIGN_SIGN_PREDICATE, target), target, trusted, 's')).toEqual({
      ok: true,
      evidence: { format: 'sigstore-bundle', kind: 'signature', anchor: 'release', source: 's' },
    });
  });

  it('any other predicate is an attestation carrying its predicate', () => {
    const outcome = verifySigstoreBundle(dsseBundle('https://slsa.dev/provenance/v1', target), target, trusted, 's');

    expect(outcome).toMatchObject({
      ok: true,
      evidence: { kind: 'attestation', predicateType: 'https://slsa.dev/provenance/v1', predicate: { note: 'made in a test' } },
    });
  });

  it('a statement about another digest is refused', () => {
    expect(verifySigstoreBundle(dsseBundle(COSIGN_SIGN_PREDICATE, OTHER), target, trusted, 's')).toMatchObject({
      ok: false,
      problem: `statement subjects do not include ${target}`,
    });
  });

  it('a bundle signed by another key is refused', () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

    expect(verifySigstoreBundle(dsseBundle(COSIGN_SIGN_PREDICATE, target, stranger), target, trusted, 's')).toMatchObject({
      ok: false,
      problem: 'signature does not verify with any trusted key',
    });
  });

  it('a message signature over the manifest bytes verifies when the bytes are given', () => {
    expect(verifySigstoreBundle(messageBundle(manifest), target, trusted, 's', manifest)).toMatchObject({
      ok: true,
      evidence: { kind: 'signature', anchor: 'release' },
    });
  });

  it('a message signature cannot be verified without the manifest bytes', () => {
    expect(verifySigstoreBundle(messageBundle(manifest), target, trusted, 's')).toMatchObject({
      ok: false,
      problem: 'message-signature bundle cannot be verified without the manifest bytes it signs',
    });
  });

  it('a message signature of other bytes is refused, naming the digest it signs', () => {
    const other = Buffer.from('{"schemaVersion":2}');
    const signed = `sha256:${createHash('sha256').update(other).digest('hex')}`;

    expect(verifySigstoreBundle(messageBundle(other), target, trusted, 's', manifest)).toMatchObject({
      ok: false,
      problem: `bundle signs ${signed} not ${target}`,
    });
  });

  it('manifest bytes that do not hash to the target are refused', () => {
    const wrong = Buffer.from('not the manifest');

    expect(verifySigstoreBundle(messageBundle(manifest), target, trusted, 's', wrong)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^manifest bytes hash to sha256:[0-9a-f]{64}, not sha256:/),
    });
  });
});

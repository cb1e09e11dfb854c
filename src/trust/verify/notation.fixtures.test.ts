/**
 * Notation signatures made by the notation CLI (its e2e OCI layouts) and by notation-go,
 * described in /work/shared/fixtures/notation/README.md.
 *
 * Several signing certificates have expired since they were made (testcert7, testcert11, the
 * expired_e2e certificate, the ten-minute testTSA one). Those are verified with `now` set inside
 * their validity window, to show the signature itself is sound, and refused at the real clock.
 * Signatures whose certificates are still valid use a fixed TODAY so the tests do not depend on
 * the date they run.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Anchors, Outcome } from './evidence.js';
import { parseCose } from './notation-cose.js';
import { parseJws } from './notation-jws.js';
import { verifyNotation, type NotationTarget } from './notation.js';
import { parseCertificates } from './x509.js';

const FIXTURES = '/work/shared/fixtures/notation';
const LAYOUTS = `${FIXTURES}/notation-e2e/oci_layout`;
const TODAY = new Date('2026-12-04T00:00:00Z');

type Store = Anchors['certificateStores'][number];

function anchors(...stores: Store[]): Anchors {
  return { keys: [], sigstoreRoots: [], certificateStores: stores };
}

function storeFromFile(name: string, file: string): Store {
  return { name, roots: parseCertificates(readFileSync(file)), intermediates: [] };
}

/** The notation-go CA trust store directory: PEM files and one DER file. */
function storeFromDirectory(name: string, dir: string): Store {
  const roots = readdirSync(dir).flatMap((file) => {
    const bytes = readFileSync(path.join(dir, file));
    return file.endsWith('.der') ? [new X509Certificate(bytes)] : parseCertificates(bytes);
  });

  return { name, roots, intermediates: [] };
}

interface SignatureManifest {
  layers: { mediaType: string; digest: string }[];
  subject: NotationTarget;
  annotations: Record<string, string>;
}

/** A signature manifest from an e2e layout, its envelope layer and that layer's media type. */
function signature(layout: string, digest: string) {
  const blob = (d: string) =>
    readFileSync(`${LAYOUTS}/${layout}/blobs/sha256/${d.replace('sha256:', '')}`);
  const manifest = JSON.parse(blob(digest).toString('utf8')) as SignatureManifest;
  const layer = manifest.layers[0]!;

  return { manifest, envelope: blob(layer.digest), type: layer.mediaType };
}

function verifyIn(layout: string, digest: string, trust: Anchors, now?: Date): Outcome {
  const { manifest, envelope, type } = signature(layout, digest);

  return verifyNotation(
    envelope,
    type,
    manifest.subject,
    trust,
    `${layout} ${digest.slice(0, 8)}`,
    now,
  );
}

function problemOf(outcome: Outcome): string {
  return outcome.ok ? 'verified' : outcome.problem;
}

describe('notation CLI e2e layouts', () => {
  const e2e = storeFromFile('e2e', `${FIXTURES}/notation-e2e/truststore/e2e.crt`);

  it('verifies e2e-valid-signature against the e2e trust store', () => {
    const outcome = verifyIn(
      'e2e-valid-signature',
      '90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f',
      anchors(e2e),
      TODAY,
    );
    expect(outcome).toEqual({
      ok: true,
      evidence: {
        format: 'notation',
        kind: 'signature',
        anchor: 'e2e',
        subject: 'C=US, ST=WA, L=Seattle, O=Notary, CN=e2e',
        source: 'e2e-valid-signature 90ceaff2',
      },
    });
  });

  it('names the store that vouched when several are configured', () => {
    const other = storeFromFile('other', `${FIXTURES}/notation-e2e/truststore/expired_e2e.crt`);
    const outcome = verifyIn(
      'e2e-valid-signature',
      '90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f',
      anchors(other, e2e),
      TODAY,
    );
    expect(outcome.ok && outcome.evidence.anchor).toBe('e2e');
  });

  it('in e2e-valid-multiple-signatures, verifies the e2e signature and refuses the testcert11 one', () => {
    const layout = 'e2e-valid-multiple-signatures';
    expect(
      verifyIn(
        layout,
        '90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f',
        anchors(e2e),
        TODAY,
      ).ok,
    ).toBe(true);

    const second = 'c3ebe4a20b6832328fc5078a7795ddc1114b896e13fca2add38109c3866b5fbf';
    const whileValid = new Date('2025-02-17T12:00:00Z');
    expect(problemOf(verifyIn(layout, second, anchors(e2e), whileValid))).toBe(
      'certificate chain does not reach trust store e2e: certificate does not chain to a trusted root',
    );
    expect(problemOf(verifyIn(layout, second, anchors(e2e)))).toMatch(
      /^certificate chain does not reach trust store e2e: certificate C=US, ST=WA, L=Seattle, O=Notary, CN=testcert11 is not valid at /,
    );

    // Trusting testcert11 itself shows the signature is sound while the certificate was valid.
    const { envelope } = signature(layout, second);
    const own = { name: 'testcert11', roots: [parseJws(envelope).chain[0]!], intermediates: [] };
    expect(verifyIn(layout, second, anchors(own), whileValid).ok).toBe(true);
  });

  it('refuses e2e-expired-signature once its expiry has passed, and accepts it just before', () => {
    const digest = '3829708badae8e4b14e1adbc2fac7182bc0c27c5b6f54153e8b68a12eab10a1e';
    expect(problemOf(verifyIn('e2e-expired-signature', digest, anchors(e2e), TODAY))).toBe(
      'signature expired at 2023-06-27T05:21:21.000Z',
    );
    expect(
      verifyIn('e2e-expired-signature', digest, anchors(e2e), new Date('2023-06-27T05:21:00Z')).ok,
    ).toBe(true);
  });

  it('refuses e2e-with-expired-cert at the real clock and verifies it while the certificate was valid', () => {
    const expired = storeFromFile(
      'expired-e2e',
      `${FIXTURES}/notation-e2e/truststore/expired_e2e.crt`,
    );
    const digest = 'b06e392c2d88206b492dbaf5381800578611eb24f86587bc7717cd3b736e5da7';
    expect(problemOf(verifyIn('e2e-with-expired-cert', digest, anchors(expired)))).toMatch(
      /^certificate chain does not reach trust store expired-e2e: certificate O=Internet Widgits Pty Ltd, ST=Some-State, C=AU is not valid at /,
    );
    const outcome = verifyIn(
      'e2e-with-expired-cert',
      digest,
      anchors(expired),
      new Date('2023-06-27T06:08:00Z'),
    );
    expect(outcome.ok && outcome.evidence.subject).toBe(
      'O=Internet Widgits Pty Ltd, ST=Some-State, C=AU',
    );
  });

  it('refuses e2e-invalid-signature, whose layer is not an envelope', () => {
    const digest = '321fcc674d6771dd0e5bd21e599f2df3a482de99a400fd3a3fe371221b97a9c9';
    expect(problemOf(verifyIn('e2e-invalid-signature', digest, anchors(e2e), TODAY))).toBe(
      'unsupported envelope type application/vnd.oci.image.layer.v1.tar',
    );
    const { manifest, envelope } = signature('e2e-invalid-signature', digest);
    const asJws = verifyNotation(
      envelope,
      'application/jose+json',
      manifest.subject,
      anchors(e2e),
      'forced',
      TODAY,
    );
    expect(problemOf(asJws)).toBe('JWS envelope is not JSON');
  });

  describe('timestamped layouts (the RFC 3161 token is not verified)', () => {
    /** testcert7 is trusted by its thumbprint, which the signature manifest's annotation carries. */
    function testcert7(layout: string, digest: string): Store {
      const { manifest, envelope } = signature(layout, digest);
      const leaf = parseJws(envelope).chain[0]!;
      const thumbprints = JSON.parse(
        manifest.annotations['io.cncf.notary.x509chain.thumbprint#S256']!,
      ) as string[];
      expect(thumbprints).toEqual([createHash('sha256').update(leaf.raw).digest('hex')]);

      return { name: 'testcert7', roots: [leaf], intermediates: [] };
    }

    it('verifies e2e-with-timestamped-signature before its expiry and refuses it after and today', () => {
      const layout = 'e2e-with-timestamped-signature';
      const digest = '6a5cd3a886707a317935dcaf13954fc80ef9aeb665262b6ae4fe469ad7ea3aea';
      const trust = anchors(testcert7(layout, digest));
      expect(verifyIn(layout, digest, trust, new Date('2025-01-21T10:00:00Z')).ok).toBe(true);
      expect(problemOf(verifyIn(layout, digest, trust, new Date('2025-01-21T13:00:00Z')))).toBe(
        'signature expired at 2025-01-21T12:39:46.000Z',
      );
      expect(problemOf(verifyIn(layout, digest, trust))).toMatch(/CN=testcert7 is not valid at /);
    });

    it('judges e2e-with-invalid-timestamped-signature by its certificate alone', () => {
      const layout = 'e2e-with-invalid-timestamped-signature';
      const digest = 'eee3eec7d2947f77713484753bea67879ff62c08a73a49a41151ed18c4d1c000';
      const trust = anchors(testcert7(layout, digest));
      // notation refuses this only when it must verify the timestamp; without TSA support we
      // ignore the unparseable token, so the signature verifies while testcert7 was valid.
      expect(verifyIn(layout, digest, trust, new Date('2025-01-21T10:00:00Z')).ok).toBe(true);
      expect(problemOf(verifyIn(layout, digest, trust))).toMatch(/CN=testcert7 is not valid at /);
    });
  });
});

describe('notation-go envelopes', () => {
  const alpineManifest = JSON.parse(
    readFileSync(`${FIXTURES}/notation-go/oci-layout/index.json`, 'utf8'),
  ) as {
    manifests: NotationTarget[];
  };
  const alpine = alpineManifest.manifests[0]!;
  const alpineLeaf = parseJws(readFileSync(`${FIXTURES}/notation-go/jws_signature.sig`)).chain[0]!;
  const alpineStore = { name: 'alpine', roots: [alpineLeaf], intermediates: [] };

  it('takes the alpine target from the OCI layout', () => {
    expect(alpine).toMatchObject({
      digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
      size: 481,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
  });

  it.each([
    ['jws_signature.sig', 'application/jose+json'],
    ['cose_signature.sig', 'application/cose'],
  ])('verifies %s with the self-signed alpine certificate as the anchor', (file, type) => {
    const envelope = readFileSync(`${FIXTURES}/notation-go/${file}`);
    const outcome = verifyNotation(envelope, type, alpine, anchors(alpineStore), file, TODAY);
    expect(outcome.ok && outcome.evidence).toMatchObject({
      anchor: 'alpine',
      subject: 'C=US, ST=WA, L=Seattle, O=Notary, CN=alpine',
    });
  });

  it('refuses the COSE envelope for another manifest, and when sent as JWS', () => {
    const envelope = readFileSync(`${FIXTURES}/notation-go/cose_signature.sig`);
    const other = { ...alpine, digest: `sha256:${'0'.repeat(64)}` };
    expect(
      problemOf(
        verifyNotation(envelope, 'application/cose', other, anchors(alpineStore), 'cose', TODAY),
      ),
    ).toBe(`targetArtifact is ${alpine.digest} not sha256:${'0'.repeat(64)}`);
    expect(
      problemOf(
        verifyNotation(
          envelope,
          'application/jose+json',
          alpine,
          anchors(alpineStore),
          'cose',
          TODAY,
        ),
      ),
    ).toBe('JWS envelope is not JSON');
  });

  describe('timestamp test envelopes against the valid-trust-store CA directory', () => {
    const ca = storeFromDirectory(
      'valid-trust-store',
      `${FIXTURES}/notation-go/timestamp/truststore/ca`,
    );
    // The payload names this Docker v2 manifest; the manifest itself is not among the fixtures.
    const target = {
      digest: 'sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda',
      size: 528,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    };
    const check = (file: string, now?: Date, trust = anchors(ca)) => {
      const envelope = readFileSync(`${FIXTURES}/notation-go/timestamp/${file}`);
      const type = envelope[0] === 0x7b ? 'application/jose+json' : 'application/cose';
      return verifyNotation(envelope, type, target, trust, file, now);
    };

    it.each(['jwsWithTimestamp.sig', 'coseWithTimestamp.sig', 'withoutTimestamp.sig'])(
      'verifies %s, signed by the trusted CN=alpine certificate',
      (file) => {
        const outcome = check(file, TODAY);
        expect(outcome.ok && outcome.evidence).toMatchObject({
          anchor: 'valid-trust-store',
          subject: 'C=US, ST=WA, L=Seattle, O=Notary, CN=alpine',
        });
      },
    );

    it.each(['jwsExpiredWithTimestamp.sig', 'coseExpiredWithTimestamp.sig'])(
      'refuses %s: its ten-minute certificate is valid only with a timestamp, which we do not verify',
      (file) => {
        expect(problemOf(check(file))).toMatch(/CN=testTSA is not valid at /);
        const during = new Date('2024-06-18T07:25:00Z');
        expect(problemOf(check(file, during))).toBe(
          'certificate chain does not reach trust store valid-trust-store: certificate does not chain to a trusted root',
        );

        // Trusting the certificate itself, inside its ten minutes, shows the signature is sound.
        const envelope = readFileSync(`${FIXTURES}/notation-go/timestamp/${file}`);
        const leaf = (file.startsWith('jws') ? parseJws : parseCose)(envelope).chain[0]!;
        expect(
          check(file, during, anchors({ name: 'testTSA', roots: [leaf], intermediates: [] })).ok,
        ).toBe(true);
      },
    );

    it.each([
      ['timestampBeforeNotBefore.sig', /CN=testTSA is not valid at 2026-12-04T00:00:00.000Z$/],
      ['timestampAfterNotAfter.sig', /CN=testTSA is not valid at 2026-12-04T00:00:00.000Z$/],
    ])('refuses %s, whose certificate is not valid now', (file, problem) => {
      expect(problemOf(check(file, TODAY))).toMatch(problem);
    });
  });
});

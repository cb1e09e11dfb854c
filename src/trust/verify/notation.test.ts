/**
 * verifyNotation on envelopes made here: a root CA, an intermediate and signing certificates
 * made with openssl, JWS and COSE envelopes signed with node:crypto. Every check runs at a
 * `now` derived from the certificates' own validity, never from the clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  signCose,
  signJws,
  type EnvelopeOptions,
} from '../../../test/helpers/notation-envelopes.js';
import {
  CA_EXTENSIONS,
  LEAF_EXTENSIONS,
  TestPki,
  type IssueOptions,
  type Issued,
} from '../../../test/helpers/notation-pki.js';
import type { Anchors, Outcome } from './evidence.js';
import { verifyNotation } from './notation.js';

const TARGET = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'a'.repeat(64)}`,
  size: 1234,
};
const JWS = 'application/jose+json';
const COSE = 'application/cose';
const HOUR = 3_600_000;

let pki: TestPki;
let root: Issued;
let intermediate: Issued;
let rsaLeaf: Issued;
let ecLeaf: Issued;
let anchors: Anchors;
/** An hour after the certificates were made: inside every validity window. */
let now: Date;

function issue(name: string, options: Partial<IssueOptions> & { subject: string }): Issued {
  return pki.issue(name, {
    key: 'rsa2048',
    extensions: LEAF_EXTENSIONS,
    issuer: intermediate,
    ...options,
  });
}

function rsaEnvelope(overrides: Partial<EnvelopeOptions> = {}): EnvelopeOptions {
  const chain = [rsaLeaf.cert, intermediate.cert];
  return { key: rsaLeaf.key, chain, alg: 'PS256', target: TARGET, ...overrides };
}

function signer(leaf: Issued, overrides: Partial<EnvelopeOptions> = {}): EnvelopeOptions {
  return rsaEnvelope({ key: leaf.key, chain: [leaf.cert, intermediate.cert], ...overrides });
}

function check(envelope: Buffer, type = JWS, target = TARGET, at = now): Outcome {
  return verifyNotation(envelope, type, target, anchors, 'test signature', at);
}

function problemOf(outcome: Outcome): string {
  return outcome.ok ? 'verified' : outcome.problem;
}

beforeAll(() => {
  pki = TestPki.create();
  const ca = { extensions: CA_EXTENSIONS, days: 3650 };
  root = pki.issue('root', {
    subject: '/C=US/O=Portcullis Test/CN=Test Root',
    key: 'rsa2048',
    ...ca,
  });
  intermediate = pki.issue('intermediate', {
    subject: '/C=US/O=Portcullis Test/CN=Test Intermediate',
    key: 'rsa2048',
    issuer: root,
    ...ca,
  });
  rsaLeaf = issue('rsa-leaf', {
    subject: '/C=US/ST=WA/O=Portcullis Test/CN=RSA Signer',
    extensions: [...LEAF_EXTENSIONS, 'subjectAltName=email:release@example.com'],
  });
  ecLeaf = issue('ec-leaf', { subject: '/C=US/O=Portcullis Test/CN=EC Signer', key: 'ec256' });
  anchors = {
    keys: [],
    sigstoreRoots: [],
    certificateStores: [{ name: 'test-ca', roots: [root.cert], intermediates: [] }],
  };
  now = new Date(Date.parse(rsaLeaf.cert.validFrom) + HOUR);
});

afterAll(() => pki.remove());

describe('verifyNotation with generated keys', () => {
  it('verifies a PS256 JWS from an RSA-2048 leaf and reports subject and SAN', () => {
    expect(check(signJws(rsaEnvelope()))).toEqual({
      ok: true,
      evidence: {
        format: 'notation',
        kind: 'signature',
        anchor: 'test-ca',
        subject: 'C=US, ST=WA, O=Portcullis Test, CN=RSA Signer',
        identity: 'release@example.com',
        source: 'test signature',
      },
    });
  });

  it('verifies an ES256 JWS from an EC P-256 leaf', () => {
    const outcome = check(signJws(signer(ecLeaf, { alg: 'ES256' })));
    expect(outcome.ok && outcome.evidence.subject).toBe('C=US, O=Portcullis Test, CN=EC Signer');
  });

  it('verifies PS256 and ES256 COSE_Sign1 envelopes', () => {
    expect(problemOf(check(signCose(rsaEnvelope()), COSE))).toBe('verified');
    expect(problemOf(check(signCose(signer(ecLeaf, { alg: 'ES256' })), COSE))).toBe('verified');
  });

  it('finds the intermediate in the store when the envelope carries only the leaf', () => {
    const store = {
      name: 'with-intermediate',
      roots: [root.cert],
      intermediates: [intermediate.cert],
    };
    const envelope = signJws(rsaEnvelope({ chain: [rsaLeaf.cert] }));
    expect(problemOf(check(envelope))).toMatch(
      /^certificate chain does not reach trust store test-ca/,
    );
    const outcome = verifyNotation(
      envelope,
      JWS,
      TARGET,
      { ...anchors, certificateStores: [store] },
      's',
      now,
    );
    expect(outcome.ok && outcome.evidence.anchor).toBe('with-intermediate');
  });

  it('refuses a tampered payload in either envelope type', () => {
    const other = Buffer.from(
      JSON.stringify({ targetArtifact: { ...TARGET, digest: `sha256:${'b'.repeat(64)}` } }),
    );
    const jws = signJws(rsaEnvelope({ embeddedPayload: other }));
    const cose = signCose(signer(ecLeaf, { alg: 'ES256', embeddedPayload: other }));
    expect(problemOf(check(jws))).toBe('envelope signature does not verify');
    expect(problemOf(check(cose, COSE))).toBe('envelope signature does not verify');
  });

  it('refuses a signature for another manifest, or for a different size or media type', () => {
    const envelope = signJws(rsaEnvelope());
    const elsewhere = { ...TARGET, digest: `sha256:${'c'.repeat(64)}` };
    expect(problemOf(check(envelope, JWS, elsewhere))).toBe(
      `targetArtifact is ${TARGET.digest} not ${elsewhere.digest}`,
    );
    expect(problemOf(check(envelope, JWS, { ...TARGET, size: 99 }))).toBe(
      'targetArtifact size is 1234 not 99',
    );
    const index = { ...TARGET, mediaType: 'application/vnd.oci.image.index.v1+json' };
    expect(problemOf(check(envelope, JWS, index))).toBe(
      `targetArtifact media type is ${TARGET.mediaType} not ${index.mediaType}`,
    );
  });

  it('refuses a leaf from another CA', () => {
    const caOptions = { key: 'rsa2048' as const, extensions: CA_EXTENSIONS, days: 3650 };
    const otherRoot = pki.issue('other-root', { subject: '/CN=Other Root', ...caOptions });
    const stranger = issue('stranger', { subject: '/CN=Stranger', issuer: otherRoot });
    const envelope = signJws({
      key: stranger.key,
      chain: [stranger.cert, otherRoot.cert],
      alg: 'PS256',
      target: TARGET,
    });
    expect(problemOf(check(envelope))).toBe(
      'certificate chain does not reach trust store test-ca: certificate does not chain to a trusted root',
    );
  });

  it('refuses a leaf that has expired, though it verifies while valid', () => {
    const shortLived = issue('short-lived', { subject: '/CN=Short Lived', days: 1 });
    const envelope = signJws(signer(shortLived));
    expect(problemOf(check(envelope))).toBe('verified');
    const later = new Date(Date.parse(shortLived.cert.validTo) + HOUR);
    expect(problemOf(check(envelope, JWS, TARGET, later))).toBe(
      `certificate chain does not reach trust store test-ca: certificate CN=Short Lived is not valid at ${later.toISOString()}`,
    );
  });

  it('refuses a leaf made for TLS servers', () => {
    const extensions = ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'];
    const server = issue('server', { subject: '/CN=server.example', extensions });
    expect(problemOf(check(signJws(signer(server))))).toBe(
      'leaf certificate CN=server.example has extended key usage serverAuth',
    );
  });

  it('refuses a leaf without the digitalSignature key usage, or one that is a CA', () => {
    const noSigning = issue('no-signing', {
      subject: '/CN=No Signing',
      extensions: ['keyUsage=critical,nonRepudiation'],
    });
    expect(problemOf(check(signJws(signer(noSigning))))).toBe(
      'leaf certificate CN=No Signing lacks the digitalSignature key usage',
    );
    const caLeaf = issue('ca-leaf', { subject: '/CN=CA Leaf', extensions: CA_EXTENSIONS });
    expect(problemOf(check(signJws(signer(caLeaf))))).toBe(
      'leaf certificate CN=CA Leaf is a CA certificate',
    );
  });

  it('refuses a CA without critical basicConstraints or keyCertSign, or past its path length', () => {
    const loose = pki.issue('loose-ca', {
      subject: '/CN=Loose CA',
      key: 'rsa2048',
      issuer: root,
      extensions: ['basicConstraints=CA:TRUE', 'keyUsage=critical,keyCertSign'],
    });
    const leaf = issue('under-loose', { subject: '/CN=Under Loose', issuer: loose });
    const envelope = signJws({
      key: leaf.key,
      chain: [leaf.cert, loose.cert],
      alg: 'PS256',
      target: TARGET,
    });
    expect(problemOf(check(envelope))).toBe(
      'CA certificate CN=Loose CA lacks a critical basicConstraints with cA',
    );

    // OpenSSL already refuses an issuer whose key usage lacks keyCertSign; one with no key
    // usage extension at all passes it, and the notation rule refuses it.
    const unmarked = pki.issue('unmarked-ca', {
      subject: '/CN=Unmarked CA',
      key: 'rsa2048',
      issuer: root,
      extensions: ['basicConstraints=critical,CA:TRUE'],
    });
    const below = issue('under-unmarked', { subject: '/CN=Under Unmarked', issuer: unmarked });
    const unmarkedEnvelope = signJws({
      key: below.key,
      chain: [below.cert, unmarked.cert],
      alg: 'PS256',
      target: TARGET,
    });
    expect(problemOf(check(unmarkedEnvelope))).toBe(
      'CA certificate CN=Unmarked CA lacks the keyCertSign key usage',
    );

    const strict = pki.issue('strict-root', {
      subject: '/CN=Strict Root',
      key: 'rsa2048',
      extensions: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign'],
    });
    const middle = pki.issue('middle', {
      subject: '/CN=Middle',
      key: 'rsa2048',
      issuer: strict,
      extensions: CA_EXTENSIONS,
    });
    const deep = issue('deep', { subject: '/CN=Deep', issuer: middle });
    const stores = [{ name: 'strict', roots: [strict.cert], intermediates: [] }];
    const deepEnvelope = signJws({
      key: deep.key,
      chain: [deep.cert, middle.cert],
      alg: 'PS256',
      target: TARGET,
    });
    const outcome = verifyNotation(
      deepEnvelope,
      JWS,
      TARGET,
      { ...anchors, certificateStores: stores },
      's',
      now,
    );
    expect(problemOf(outcome)).toBe(
      'CA certificate CN=Strict Root allows 0 CA certificates below it, not 1',
    );
  });

  it('refuses keys notation does not allow and an alg that does not match the key', () => {
    const weak = issue('weak', { subject: '/CN=Weak', key: 'rsa1024' });
    expect(problemOf(check(signJws(signer(weak))))).toBe(
      'signing certificate has an RSA key of 1024 bits (notation allows 2048, 3072 or 4096)',
    );
    const envelope = signJws(signer(ecLeaf, { alg: 'PS256' }));
    expect(problemOf(check(envelope))).toBe(
      'envelope algorithm PS256 does not match the signing key, which needs ES256',
    );
  });

  it('refuses a leaf signed with SHA-1', () => {
    const sha1 = issue('sha1', { subject: '/CN=SHA1 Signed', digest: 'sha1' });
    expect(problemOf(check(signJws(signer(sha1))))).toBe(
      'certificate CN=SHA1 Signed is signed with sha1WithRSAEncryption',
    );
  });

  it('refuses an expired signature and accepts one whose expiry is still ahead', () => {
    const expiry = new Date(now.getTime() - HOUR);
    const expired = { attributes: { 'io.cncf.notary.expiry': expiry } };
    expect(problemOf(check(signJws(rsaEnvelope(expired))))).toBe(
      `signature expired at ${expiry.toISOString()}`,
    );
    expect(problemOf(check(signCose(rsaEnvelope(expired)), COSE))).toBe(
      `signature expired at ${expiry.toISOString()}`,
    );
    const ahead = { attributes: { 'io.cncf.notary.expiry': new Date(now.getTime() + HOUR) } };
    expect(problemOf(check(signCose(rsaEnvelope(ahead)), COSE))).toBe('verified');
  });
});

describe('verifyNotation signed attributes', () => {
  const refuse = (overrides: Partial<EnvelopeOptions>) => [
    problemOf(check(signJws(rsaEnvelope(overrides)))),
    problemOf(check(signCose(rsaEnvelope(overrides)), COSE)),
  ];

  it('refuses an unknown critical header', () => {
    const custom = { attributes: { 'io.example.custom': 'x' } };
    expect(refuse(custom)).toEqual(Array(2).fill('unsupported critical header io.example.custom'));
  });

  it('refuses a signature that needs a verification plugin', () => {
    const plugin = { attributes: { 'io.cncf.notary.verificationPlugin': 'com.example.plugin' } };
    expect(refuse(plugin)).toEqual(
      Array(2).fill(
        'signature requires a verification plugin (io.cncf.notary.verificationPlugin), and the registry runs none',
      ),
    );
  });

  it('refuses an expiry left out of crit, and a crit without the signing scheme', () => {
    const loose = {
      attributes: { 'io.cncf.notary.expiry': new Date(now.getTime() + HOUR) },
      crit: ['io.cncf.notary.signingScheme'],
    };
    expect(refuse(loose)).toEqual(
      Array(2).fill('io.cncf.notary.expiry is present but not listed in crit'),
    );
    expect(refuse({ crit: [] })).toEqual(
      Array(2).fill('crit does not list io.cncf.notary.signingScheme'),
    );
  });

  it('refuses another payload content type and an unknown signing scheme', () => {
    expect(refuse({ contentType: 'application/json' })).toEqual(
      Array(2).fill(
        'payload content type is application/json, not application/vnd.cncf.notary.payload.v1+json',
      ),
    );
    const scheme = {
      attributes: { 'io.cncf.notary.signingScheme': 'notary.default' },
      crit: ['io.cncf.notary.signingScheme'],
    };
    expect(refuse(scheme)).toEqual(Array(2).fill('unsupported signing scheme notary.default'));
  });

  it('refuses the signing-authority scheme without an authentic signing time', () => {
    const scheme = {
      attributes: { 'io.cncf.notary.signingScheme': 'notary.x509.signingAuthority' },
      crit: ['io.cncf.notary.signingScheme'],
    };
    expect(refuse(scheme)).toEqual(
      Array(2).fill(
        'signing scheme notary.x509.signingAuthority requires io.cncf.notary.authenticSigningTime',
      ),
    );
  });

  it('refuses envelopes that are not notation envelopes', () => {
    expect(problemOf(check(Buffer.from('{"payload":"e30"}')))).toBe(
      'JWS protected header is not base64url',
    );
    expect(problemOf(check(Buffer.from([0xa0]), COSE))).toBe(
      'COSE envelope is not a tagged COSE_Sign1 message',
    );
    const truncated = Buffer.from([0xd2, 0x84, 0x40]);
    expect(problemOf(check(truncated, COSE))).toBe('COSE envelope is not valid CBOR');
    expect(problemOf(check(Buffer.from('{}'), 'application/pgp-signature'))).toBe(
      'unsupported envelope type application/pgp-signature',
    );
  });
});

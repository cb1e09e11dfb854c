import { createHash } from 'node:crypto';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  ValidationError,
  bundleFromJSON,
  type Bundle,
} from '@sigstore/bundle';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { pae, readStatement } from './dsse.js';
import type { Anchors, Evidence, Outcome } from './evidence.js';
import { findTrustedKey } from './keys.js';
import { verifyWithTrustedRoots } from './sigstore-trust.js';

/** Bundle versions a cosign referrer may carry; later versions would need a newer library. */
export const SIGSTORE_BUNDLE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  BUNDLE_V03_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V01_MEDIA_TYPE,
]);

/** The predicate cosign v3 uses for a plain image signature wrapped in DSSE (PROTOCOLS.md §3.4). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

const HASHES: Record<string, HashAlgorithm> = { sha256: HashAlgorithm.SHA2_256, sha512: HashAlgorithm.SHA2_512 };

type Signer = Pick<Evidence, 'anchor' | 'identity' | 'issuer'>;

/**
 * Verifies the Sigstore bundle stored as the single layer of a cosign v3 referrer as a signature
 * or attestation of the manifest `target` ("sha256:<hex>"). Certificate bundles are checked
 * against each configured trusted root by @sigstore/verify; key bundles against the configured
 * keys. A DSSE bundle's statement must list `target` as a subject; cosign's own signing predicate
 * counts as a signature, any other predicate as an attestation. A message-signature bundle signs
 * the manifest bytes themselves, so it can only be verified when `manifest` is given.
 */
export function verifySigstoreBundle(
  blob: Buffer,
  target: string,
  anchors: Anchors,
  source: string,
  manifest?: Buffer,
): Outcome {
  const bundle = parseBundle(blob);
  if ('problem' in bundle) return { ok: false, source, problem: bundle.problem };
  let artifact: Buffer | undefined;
  if (bundle.content.$case === 'messageSignature') {
    const problem = checkMessageDigest(bundle.content.messageSignature.messageDigest, target, manifest);
    if (problem) return { ok: false, source, problem };
    artifact = manifest;
  }
  const signer =
    bundle.verificationMaterial.content.$case === 'publicKey'
      ? verifyWithKeys(bundle, artifact, anchors.keys)
      : verifyWithTrustedRoots(bundle, artifact, anchors.sigstoreRoots);
  if ('problem' in signer) return { ok: false, source, problem: signer.problem };

  if (bundle.content.$case === 'messageSignature') {
    return { ok: true, evidence: { format: 'sigstore-bundle', kind: 'signature', ...signer, source } };
  }
  const { payloadType, payload } = bundle.content.dsseEnvelope;
  const statement = readStatement(payloadType, payload, target);
  if ('problem' in statement) return { ok: false, source, problem: statement.problem };
  if (statement.predicateType === COSIGN_SIGN_PREDICATE) {
    return { ok: true, evidence: { format: 'sigstore-bundle', kind: 'signature', ...signer, source } };
  }

  return { ok: true, evidence: { format: 'sigstore-bundle', kind: 'attestation', ...signer, ...statement, source } };
}

function parseBundle(blob: Buffer): Bundle | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(blob.toString('utf8'));
  } catch {
    return { problem: 'bundle is not valid JSON' };
  }
  const mediaType = (json as { mediaType?: unknown } | null)?.mediaType;
  if (typeof mediaType !== 'string' || !SIGSTORE_BUNDLE_MEDIA_TYPES.has(mediaType)) {
    return { problem: `bundle media type ${String(mediaType)} is not a supported Sigstore bundle version` };
  }
  try {
    return bundleFromJSON(json);
  } catch (err) {
    if (err instanceof ValidationError) return { problem: `bundle is malformed: ${err.fields.join(', ')}` };

    return { problem: `bundle is malformed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function checkMessageDigest(
  digest: { algorithm: HashAlgorithm; digest: Buffer } | undefined,
  target: string,
  manifest: Buffer | undefined,
): string | undefined {
  const [algorithm = '', hex = ''] = target.split(':', 2);
  const sameAlgorithm = digest !== undefined && HASHES[algorithm] === digest.algorithm;
  const signed = sameAlgorithm ? `${algorithm}:${digest.digest.toString('hex')}` : undefined;
  if (signed !== target) return `bundle signs ${signed ?? 'a digest of another algorithm'} not ${target}`;
  if (!manifest) return 'message-signature bundle cannot be verified without the manifest bytes it signs';
  const actual = createHash(algorithm).update(manifest).digest('hex');
  if (actual !== hex) return `manifest bytes hash to ${algorithm}:${actual}, not ${target}`;

  return undefined;
}

/**
 * Key bundles are trusted on the configured key alone, as cosign's key-based verification is;
 * their transparency-log entries are not required (a private key needs no public log).
 */
function verifyWithKeys(
  bundle: Bundle,
  artifact: Buffer | undefined,
  keys: Anchors['keys'],
): Signer | { problem: string } {
  if (keys.length === 0) return { problem: 'bundle is signed with a key, but no trusted key is configured' };
  const { content } = bundle;
  const [bytes, signature] =
    content.$case === 'dsseEnvelope'
      ? [pae(content.dsseEnvelope.payloadType, content.dsseEnvelope.payload), content.dsseEnvelope.signatures[0]?.sig]
      : [artifact, content.messageSignature.signature];
  const name = bytes && signature ? findTrustedKey(keys, bytes, [signature]) : undefined;

  return name === undefined ? { problem: 'signature does not verify with any trusted key' } : { anchor: name };
}

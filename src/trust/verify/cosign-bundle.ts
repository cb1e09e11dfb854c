import { createHash, type X509Certificate } from 'node:crypto';
import { BUNDLE_V01_MEDIA_TYPE, bundleFromJSON, type Bundle } from '@sigstore/bundle';
import type { Envelope } from './dsse.js';

/** What a keyless cosign layer signed: a simple-signing payload, or a DSSE envelope (`.att`). */
export type SignedContent =
  | { kind: 'message'; payload: Buffer; signature: Buffer }
  | { kind: 'envelope'; envelope: Envelope };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sha256Base64(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Turns the annotations of a keyless cosign layer into the Sigstore bundle cosign would have
 * written for it (v0.1: the Rekor signed entry timestamp stands in for an inclusion proof), so
 * that @sigstore/verify does the Fulcio, SCT and Rekor checks instead of a home-made copy.
 * `rekorBundle` is the `dev.sigstore.cosign/bundle` annotation:
 * `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`.
 * Limitation: the `dev.sigstore.cosign/rfc3161timestamp` annotation is not read, so a keyless
 * layer without a Rekor bundle cannot be verified.
 */
export function toSigstoreBundle(
  leaf: X509Certificate,
  rekorBundle: string,
  content: SignedContent,
): Bundle | { problem: string } {
  let rekor: unknown;
  try {
    rekor = JSON.parse(rekorBundle);
  } catch {
    return { problem: 'Rekor bundle annotation is not valid JSON' };
  }
  const entry = isRecord(rekor) && isRecord(rekor.Payload) ? rekor.Payload : undefined;
  if (
    !isRecord(rekor) || typeof rekor.SignedEntryTimestamp !== 'string' || !entry ||
    typeof entry.body !== 'string' || !isInteger(entry.integratedTime) || !isInteger(entry.logIndex) ||
    typeof entry.logID !== 'string' || !/^[0-9a-f]{64}$/.test(entry.logID)
  ) {
    return { problem: 'Rekor bundle annotation lacks SignedEntryTimestamp, body, integratedTime, logIndex or logID' };
  }
  let kind: unknown;
  try {
    kind = JSON.parse(Buffer.from(entry.body, 'base64').toString('utf8'));
  } catch {
    return { problem: 'Rekor entry body is not base64 JSON' };
  }
  if (!isRecord(kind) || typeof kind.kind !== 'string' || typeof kind.apiVersion !== 'string') {
    return { problem: 'Rekor entry body names no kind and apiVersion' };
  }

  const tlogEntry = {
    logIndex: String(entry.logIndex),
    logId: { keyId: Buffer.from(entry.logID, 'hex').toString('base64') },
    kindVersion: { kind: kind.kind, version: kind.apiVersion },
    integratedTime: String(entry.integratedTime),
    inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
    canonicalizedBody: entry.body,
  };
  const signed =
    content.kind === 'message'
      ? {
          messageSignature: {
            messageDigest: { algorithm: 'SHA2_256', digest: sha256Base64(content.payload) },
            signature: content.signature.toString('base64'),
          },
        }
      : {
          dsseEnvelope: {
            payload: content.envelope.payload.toString('base64'),
            payloadType: content.envelope.payloadType,
            signatures: content.envelope.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig.toString('base64') })),
          },
        };
  try {
    return bundleFromJSON({
      mediaType: BUNDLE_V01_MEDIA_TYPE,
      // Only the leaf: the CA chain must come from the trusted root, never from the signature.
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: leaf.raw.toString('base64') }] },
        tlogEntries: [tlogEntry],
      },
      ...signed,
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);

    return { problem: `cannot form a Sigstore bundle from the annotations: ${reason}` };
  }
}

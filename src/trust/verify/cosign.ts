import type { X509Certificate } from 'node:crypto';
import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import { toSigstoreBundle, type SignedContent } from './cosign-bundle.js';
import { decodeBase64, pae, parseEnvelope, readStatement } from './dsse.js';
import type { Anchors, Evidence, Outcome } from './evidence.js';
import { findTrustedKey, verifiesWith } from './keys.js';
import { verifyWithTrustedRoots } from './sigstore-trust.js';
import { describeCertificate, parseCertificates, verifyChain } from './x509.js';

/** Layer media types of cosign's legacy `.sig` and `.att` manifests (PROTOCOLS.md §3.1, §3.5). */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

/** Layer annotation keys; only the signature key keeps the old `cosignproject` prefix. */
const SIGNATURE = 'dev.cosignproject.cosign/signature';
const CERTIFICATE = 'dev.sigstore.cosign/certificate';
const CHAIN = 'dev.sigstore.cosign/chain';
const REKOR_BUNDLE = 'dev.sigstore.cosign/bundle';

const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export interface CosignLayer {
  mediaType: string;
  annotations: Record<string, string>;
  blob: Buffer;
}

/** What the layer signed, the exact bytes the signatures cover, and the signatures. */
interface Signed {
  content: SignedContent;
  bytes: Buffer;
  signatures: Buffer[];
}

type Signer = Pick<Evidence, 'anchor' | 'identity' | 'issuer' | 'subject'>;

/**
 * Verifies one layer of a cosign `sha256-<hex>.sig` or `.att` manifest as a signature of the
 * manifest `target` ("sha256:<hex>"). The signer is trusted through a configured key, a
 * certificate chaining to a configured certificate store (checked now), or a Fulcio certificate
 * with a Rekor bundle verified against a configured Sigstore trusted root (checked at the time
 * Rekor recorded it). Only then is the signed content read: a simple-signing payload must name
 * `target`; an in-toto statement must list it as a subject.
 * A key-based signature is trusted on the key alone: a Rekor bundle beside it is not checked.
 */
export function verifyCosignLayer(layer: CosignLayer, target: string, anchors: Anchors, source: string): Outcome {
  const signed = readLayer(layer);
  if ('problem' in signed) return { ok: false, source, problem: signed.problem };
  const signer = identifySigner(layer.annotations, signed, anchors);
  if ('problem' in signer) return { ok: false, source, problem: signer.problem };

  const { content } = signed;
  if (content.kind === 'message') {
    const problem = checkSimpleSigning(content.payload, target);
    if (problem) return { ok: false, source, problem };

    return { ok: true, evidence: { format: 'cosign', kind: 'signature', ...signer, source } };
  }
  const { payloadType, payload } = content.envelope;
  const statement = readStatement(payloadType, payload, target);
  if ('problem' in statement) return { ok: false, source, problem: statement.problem };

  return { ok: true, evidence: { format: 'cosign', kind: 'attestation', ...signer, ...statement, source } };
}

function readLayer(layer: CosignLayer): Signed | { problem: string } {
  if (layer.mediaType === SIMPLE_SIGNING_MEDIA_TYPE) {
    const signature = decodeBase64(layer.annotations[SIGNATURE] ?? '');
    if (!signature || signature.length === 0) return { problem: `layer has no base64 ${SIGNATURE} annotation` };
    const content: SignedContent = { kind: 'message', payload: layer.blob, signature };

    return { content, bytes: layer.blob, signatures: [signature] };
  }
  if (layer.mediaType === DSSE_MEDIA_TYPE) {
    const envelope = parseEnvelope(layer.blob);
    if ('problem' in envelope) return envelope;

    return {
      content: { kind: 'envelope', envelope },
      bytes: pae(envelope.payloadType, envelope.payload),
      signatures: envelope.signatures.map((s) => s.sig),
    };
  }

  return { problem: `layer is ${layer.mediaType}, not a cosign signature` };
}

function identifySigner(
  annotations: Record<string, string>,
  signed: Signed,
  anchors: Anchors,
): Signer | { problem: string } {
  const keyName = findTrustedKey(anchors.keys, signed.bytes, signed.signatures);
  if (keyName !== undefined) return { anchor: keyName };
  const pem = annotations[CERTIFICATE];
  if (!pem && anchors.keys.length === 0) {
    return { problem: 'no trusted key is configured and the signature carries no certificate' };
  }
  if (!pem) return { problem: 'signature does not verify with any trusted key' };
  const certificates = readCertificates(pem, annotations[CHAIN] ?? '');
  if ('problem' in certificates) return certificates;
  const { leaf, presented } = certificates;
  if (!signed.signatures.some((sig) => verifiesWith(leaf.publicKey, signed.bytes, sig))) {
    return { problem: `signature does not verify with the key of certificate ${describeCertificate(leaf)}` };
  }

  const problems: string[] = [];
  for (const store of anchors.certificateStores) {
    const result = verifyChain(leaf, presented, store, new Date());
    if ('chain' in result) {
      return { anchor: store.name, identity: alternativeName(leaf), subject: distinguishedName(leaf) };
    }
    problems.push(`certificate store "${store.name}": ${result.problem}`);
  }
  const rekorBundle = annotations[REKOR_BUNDLE];
  if (rekorBundle) {
    const bundle = toSigstoreBundle(leaf, rekorBundle, signed.content);
    const artifact = signed.content.kind === 'message' ? signed.content.payload : undefined;
    const keyless = 'problem' in bundle ? bundle : verifyWithTrustedRoots(bundle, artifact, anchors.sigstoreRoots);
    if (!('problem' in keyless)) return keyless;
    problems.push(keyless.problem);
  }
  if (problems.length === 0) {
    return { problem: 'certificate-signed, but no certificate store is configured and there is no Rekor bundle' };
  }

  return { problem: problems.join('; ') };
}

function readCertificates(
  pem: string,
  chain: string,
): { leaf: X509Certificate; presented: X509Certificate[] } | { problem: string } {
  let leaf: X509Certificate | undefined;
  try {
    [leaf] = parseCertificates(pem);
  } catch {
    return { problem: `${CERTIFICATE} annotation is not a valid certificate` };
  }
  if (!leaf) return { problem: `${CERTIFICATE} annotation holds no PEM certificate` };
  try {
    return { leaf, presented: parseCertificates(chain) };
  } catch {
    return { problem: `${CHAIN} annotation holds an invalid certificate` };
  }
}

/**
 * The certificate's email or URI subject alternative name, as identity policies match it
 * (the Sigstore parser is used because Node only offers the SAN as one escaped string).
 */
function alternativeName(cert: X509Certificate): string | undefined {
  try {
    return SigstoreCertificate.parse(cert.raw).subjectAltName;
  } catch {
    return undefined;
  }
}

/** The subject distinguished name on one line; undefined when empty, as in Fulcio certificates. */
function distinguishedName(cert: X509Certificate): string | undefined {
  const subject = cert.subject as string | undefined;

  return subject ? subject.split('\n').join(', ') : undefined;
}

/** Go decodes JSON field names case-insensitively, so cosign accepts any casing; so must we. */
function field(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, name)) return record[name];
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());

  return key === undefined ? undefined : record[key];
}

/** Checks the simple-signing payload's claims; the exact signed bytes are parsed, never rewritten. */
function checkSimpleSigning(payload: Buffer, target: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'simple-signing payload is not valid JSON';
  }
  const critical = field(json, 'critical');
  const type = field(critical, 'type');
  if (type !== SIMPLE_SIGNING_TYPE) {
    return `payload type is ${JSON.stringify(type) ?? 'missing'}, not "${SIMPLE_SIGNING_TYPE}"`;
  }
  const digest = field(field(critical, 'image'), 'docker-manifest-digest');
  if (typeof digest !== 'string') return 'payload names no docker-manifest-digest';
  if (digest !== target) return `payload names ${digest} not ${target}`;

  return undefined;
}

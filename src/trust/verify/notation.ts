import type { X509Certificate } from 'node:crypto';
import type { Anchors, Outcome } from './evidence.js';
import { checkCertificateRules, checkSignature, subjectLine } from './notation-certs.js';
import { parseCose } from './notation-cose.js';
import { checkSignedAttributes, Refusal, type NotationEnvelope } from './notation-envelope.js';
import { parseJws } from './notation-jws.js';
import { verifyChain } from './x509.js';
import { readExtensions } from './x509-extensions.js';

/** The descriptor of the manifest being pulled, which the signature must name. */
export interface NotationTarget {
  digest: string;
  size: number;
  mediaType: string;
}

const PARSERS: Record<string, (bytes: Buffer) => NotationEnvelope> = {
  'application/jose+json': parseJws,
  'application/cose': parseCose,
};

/** Finds the first store the chain reaches at `at`, or refuses with every store's reason. */
function chainToStore(
  presented: readonly X509Certificate[],
  stores: Anchors['certificateStores'],
  at: Date,
): { store: string; chain: X509Certificate[] } {
  if (stores.length === 0) throw new Refusal('no certificate trust store is configured');
  const [leaf, ...rest] = presented as [X509Certificate, ...X509Certificate[]];
  const problems: string[] = [];
  for (const store of stores) {
    const result = verifyChain(leaf, rest, store, at);
    if ('chain' in result) return { store: store.name, chain: result.chain };
    problems.push(stores.length === 1 ? result.problem : `${store.name}: ${result.problem}`);
  }
  const names = stores.map((store) => store.name).join(', ');

  throw new Refusal(
    `certificate chain does not reach trust store ${names}: ${problems.join('; ')}`,
  );
}

function checkTarget(payload: Buffer, target: NotationTarget): void {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new Refusal('payload is not JSON');
  }
  const signed = (body as { targetArtifact?: Record<string, unknown> } | null)?.targetArtifact;
  if (typeof signed?.digest !== 'string') throw new Refusal('payload has no targetArtifact digest');

  if (signed.digest !== target.digest) {
    throw new Refusal(`targetArtifact is ${signed.digest} not ${target.digest}`);
  }
  if (signed.size !== undefined && signed.size !== target.size) {
    throw new Refusal(`targetArtifact size is ${String(signed.size)} not ${target.size}`);
  }
  if (signed.mediaType !== undefined && signed.mediaType !== target.mediaType) {
    throw new Refusal(
      `targetArtifact media type is ${String(signed.mediaType)} not ${target.mediaType}`,
    );
  }
}

/**
 * Verifies one Notary Project signature envelope (the single layer of a notation signature
 * manifest, `envelopeType` being that layer's media type) for the manifest `target`, against
 * the X.509 stores among `anchors`. Checks, in notation's order: the envelope and its signed
 * attributes, the signature with the leaf key, the chain to a store and the certificate rules
 * at `now`, the expiry, then that the payload names `target`.
 *
 * Limitation: RFC 3161 timestamp countersignatures are not verified, so every certificate
 * must be valid at `now`, as notation requires of signatures without a timestamp.
 * The `notary.x509.signingAuthority` scheme is held to the same rule: with no separate
 * signing-authority stores, its authentic signing time is not trusted to stand in for `now`.
 */
export function verifyNotation(
  envelope: Buffer,
  envelopeType: string,
  target: NotationTarget,
  anchors: Anchors,
  source: string,
  now: Date = new Date(),
): Outcome {
  try {
    const parse = PARSERS[envelopeType];
    if (!parse) throw new Refusal(`unsupported envelope type ${envelopeType}`);
    const parsed = parse(envelope);
    const { expiry } = checkSignedAttributes(parsed);
    const leaf = parsed.chain[0]!;
    checkSignature(leaf, parsed.algorithm, parsed.signingInput, parsed.signature);

    const { store, chain } = chainToStore(parsed.chain, anchors.certificateStores, now);
    checkCertificateRules(chain);
    if (expiry && expiry < now) throw new Refusal(`signature expired at ${expiry.toISOString()}`);
    checkTarget(parsed.payload, target);

    const identity = readExtensions(leaf).subjectAltNames[0];
    const evidence = {
      format: 'notation',
      kind: 'signature',
      anchor: store,
      subject: subjectLine(leaf),
      source,
    } as const;

    return { ok: true, evidence: identity === undefined ? evidence : { ...evidence, identity } };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, source, problem: error.message };
    return {
      ok: false,
      source,
      problem: `envelope could not be checked: ${(error as Error).message}`,
    };
  }
}

import type { Anchors, Outcome } from './verify/evidence.js';

/** The verifiers the collector hands each kind of signature to (bound in `verify/index.ts`). */
export interface Verifiers {
  cosignLayer(layer: { mediaType: string; annotations: Record<string, string>; blob: Buffer }, target: string, anchors: Anchors, source: string): Outcome;
  /** `manifest` is the signed manifest's bytes, which a message-signature bundle signs directly. */
  sigstoreBundle(blob: Buffer, target: string, anchors: Anchors, source: string, manifest: Buffer): Outcome;
  notation(envelope: Buffer, envelopeType: string, target: { digest: string; size: number; mediaType: string }, anchors: Anchors, source: string): Outcome;
}

export const COSIGN_SIGNATURE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const NOTARY_SIGNATURE = 'application/vnd.cncf.notary.signature';
const SIGSTORE_BUNDLE = /^application\/vnd\.dev\.sigstore\.bundle(\.v0\.\d+)?\+json/;
const COSIGN_ARTIFACTS = new Set(['application/vnd.dev.cosign.artifact.sig.v1+json', 'application/vnd.in-toto+json', 'application/vnd.dev.cosign.artifact.att.v1+json']);

export interface LayerRef {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

/** How a signature-carrying manifest is read: which verifier its layers go to. */
export type ArtifactKind = 'cosign' | 'sigstore-bundle' | 'notation';

/** The manifest's layers, or [] for anything that is not an image manifest. */
export function layersOf(content: Buffer): LayerRef[] {
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch {
    return [];
  }
  const layers = (doc as { layers?: unknown }).layers;
  if (!Array.isArray(layers)) return [];

  return layers.flatMap((l: unknown) => {
    const layer = l as Partial<LayerRef> | null;
    if (!layer || typeof layer.mediaType !== 'string' || typeof layer.digest !== 'string' || typeof layer.size !== 'number') return [];
    const annotations = typeof layer.annotations === 'object' && layer.annotations !== null ? layer.annotations : {};

    return [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size, annotations }];
  });
}

/** Which verifier a referrer (or a cosign tag's manifest) belongs to, from its artifact type or layers. */
export function artifactKind(artifactType: string | null, layers: readonly LayerRef[]): ArtifactKind | undefined {
  if (artifactType !== null && SIGSTORE_BUNDLE.test(artifactType)) return 'sigstore-bundle';
  if (artifactType === NOTARY_SIGNATURE) return 'notation';
  if (artifactType !== null && COSIGN_ARTIFACTS.has(artifactType)) return 'cosign';
  if (layers.length > 0 && layers.every((l) => SIGSTORE_BUNDLE.test(l.mediaType))) return 'sigstore-bundle';
  if (layers.length > 0 && layers.every((l) => l.mediaType === COSIGN_SIGNATURE || l.mediaType === DSSE_ENVELOPE)) return 'cosign';

  return undefined;
}

const TAR_LAYER = /tar|rootfs\.diff/;

/**
 * Whether a manifest is itself a signature, attestation or other attachment, which need not be
 * signed (attachments are how signatures reach verifiers), though quarantine still applies.
 * Neither a `subject` nor an `artifactType` makes one of a manifest with filesystem layers: that
 * is an image a runtime would run, and must not slip past the policy by naming a subject.
 */
export function isAttachment(subject: string | null, artifactType: string | null, content: Buffer): boolean {
  const layers = layersOf(content);
  if (layers.some((l) => TAR_LAYER.test(l.mediaType))) return false;

  return subject !== null || artifactKind(artifactType, layers) !== undefined;
}

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

/**
 * Layer media types that carry signatures, attestations, SBOMs or nothing: content a container
 * runtime never unpacks. Exact, lower-case matches only.
 */
const ATTACHMENT_LAYERS = new Set([
  COSIGN_SIGNATURE,
  DSSE_ENVELOPE,
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/jose+json',
  'application/cose',
  'application/vnd.in-toto+json',
  'application/spdx+json',
  'application/vnd.cyclonedx+json',
  'application/vnd.oci.empty.v1+json',
]);

/**
 * Whether a manifest is itself a signature, attestation or SBOM, which need not be signed
 * (attachments are how signatures reach verifiers), though quarantine still applies. Only a
 * manifest whose every layer is such content counts: a `subject` or an `artifactType` does not
 * make an attachment of anything a runtime could run (tar, wasm, or a type unknown here).
 */
export function isAttachment(subject: string | null, artifactType: string | null, content: Buffer): boolean {
  const layers = layersOf(content);
  if (!layers.every((l) => ATTACHMENT_LAYERS.has(l.mediaType))) return false;
  if (isIndex(content)) return false;

  return subject !== null || artifactKind(artifactType, layers) !== undefined;
}

function isIndex(content: Buffer): boolean {
  try {
    return Array.isArray((JSON.parse(content.toString('utf8')) as { manifests?: unknown }).manifests);
  } catch {
    return false;
  }
}

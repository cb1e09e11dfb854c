import type { Readable } from 'node:stream';
import type { BlobDriver } from '../storage/blobs/driver.js';
import type { ContentStore, ManifestRecord } from '../storage/metadata/content.js';
import type { ManifestGraph } from '../storage/metadata/manifest-graph.js';
import { artifactKind, layersOf, type LayerRef, type Verifiers } from './artifacts.js';
import type { Anchors, Outcome } from './verify/evidence.js';

/** Signature layers are small; a larger one is refused unread. */
const MAX_SIGNATURE_BLOB = 4 * 1024 * 1024;
/**
 * At most this many attachments (and layers in each) are examined per pull, so that someone
 * able to push attachments cannot make every pull of the image slow.
 */
const MAX_ATTACHMENTS = 32;
const MAX_LAYERS = 16;
/** Signature layers verified per verdict, across all attachments. */
const MAX_VERIFIED = 32;

/** A manifest that may carry signatures of the pulled one: a cosign tag's manifest or a referrer. */
export interface Attachment {
  digest: string;
  artifactType: string | null;
  /** For messages: `tag sha256-….sig` or `referrer sha256:…`. */
  via: string;
}

/**
 * Everything attached to `digest` in the repository that could hold its signatures: the
 * cosign `.sig` and `.att` tags and the referrers. Cheap (index lookups only), so it runs on
 * every pull and keys the verdict cache: a new or removed signature changes the answer.
 */
export async function attachments(content: ContentStore, graph: ManifestGraph, repository: string, digest: string): Promise<Attachment[]> {
  const hex = digest.replace(':', '-');
  const found: Attachment[] = [];
  for (const suffix of ['.sig', '.att']) {
    const target = await graph.tagTarget(repository, `${hex}${suffix}`);
    if (target) found.push({ digest: target, artifactType: null, via: `tag ${hex}${suffix}` });
  }
  // Only referrers that can hold signatures count against the cap: SBOMs and other attachments
  // cannot push a signature out of view.
  for (const r of await content.referrers(repository, digest)) {
    if (artifactKind(r.artifactType, []) === undefined && !maybeSignatureType(r.artifactType)) continue;
    found.push({ digest: r.digest, artifactType: r.artifactType, via: `referrer ${r.digest}` });
  }

  return found.slice(0, MAX_ATTACHMENTS);
}

/** Verifies every signature and attestation the attachments carry for `target`. */
export async function verifyAttachments(
  content: ContentStore,
  driver: BlobDriver,
  target: ManifestRecord,
  found: readonly Attachment[],
  anchors: Anchors,
  verifiers: Verifiers,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const attachment of found) {
    if (outcomes.length >= MAX_VERIFIED) break;
    const manifest = await content.manifest(target.repository, attachment.digest);
    if (!manifest) continue;
    const layers = layersOf(manifest.content);
    const kind = artifactKind(attachment.artifactType ?? manifest.artifactType, layers);
    if (!kind) continue;
    for (const [i, layer] of layers.slice(0, Math.min(MAX_LAYERS, MAX_VERIFIED - outcomes.length)).entries()) {
      const source = `${attachment.via}, layer ${i}`;
      const blob = await readSmallBlob(driver, layer);
      if (typeof blob === 'string') {
        outcomes.push({ ok: false, source, problem: blob });
        continue;
      }
      outcomes.push(verifyLayer(kind, layer, blob, target, anchors, verifiers, source));
    }
  }

  return outcomes;
}

function verifyLayer(
  kind: NonNullable<ReturnType<typeof artifactKind>>,
  layer: LayerRef,
  blob: Buffer,
  target: ManifestRecord,
  anchors: Anchors,
  verifiers: Verifiers,
  source: string,
): Outcome {
  try {
    if (kind === 'sigstore-bundle') return verifiers.sigstoreBundle(blob, target.digest, anchors, source, target.content);
    if (kind === 'notation') {
      return verifiers.notation(blob, layer.mediaType, { digest: target.digest, size: target.size, mediaType: target.mediaType }, anchors, source);
    }

    return verifiers.cosignLayer({ mediaType: layer.mediaType, annotations: layer.annotations, blob }, target.digest, anchors, source);
  } catch (err) {
    // A verifier that throws on hostile input must not turn into a 500 or an accepted pull.
    return { ok: false, source, problem: `could not be verified (${(err as Error).message.slice(0, 200)})` };
  }
}

/** The layer's bytes, or why they were not read. */
async function readSmallBlob(driver: BlobDriver, layer: LayerRef): Promise<Buffer | string> {
  if (layer.size > MAX_SIGNATURE_BLOB) return `layer is ${layer.size} bytes, more than a signature can be`;
  let stream: Readable;
  try {
    stream = await driver.read(layer.digest);
  } catch {
    return `layer ${layer.digest} is missing`;
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of stream) {
    size += (part as Buffer).byteLength;
    if (size > MAX_SIGNATURE_BLOB) {
      stream.destroy();
      return `layer is more than ${MAX_SIGNATURE_BLOB} bytes`;
    }
    parts.push(part as Buffer);
  }

  return Buffer.concat(parts);
}

/**
 * Referrer artifact types whose layers may hold signatures even when the type alone does not
 * say which kind (an image manifest used as a referrer reports its config type).
 */
function maybeSignatureType(artifactType: string | null): boolean {
  return artifactType === null || artifactType === 'application/vnd.oci.image.config.v1+json' || artifactType === 'application/vnd.oci.empty.v1+json';
}

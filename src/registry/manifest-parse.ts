import { RegistryError } from '../errors/registry-error.js';
import { tryParseDigest } from '../oci/digest.js';
import { INDEX_TYPES, MANIFEST_TYPES, OCI_MANIFEST, isNonDistributable } from '../oci/media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** What the registry needs from a manifest after checking its shape. */
export interface ParsedManifest {
  mediaType: string;
  /** Blobs the repository must hold (config and distributable layers). */
  blobs: string[];
  /** Manifests the repository must hold (entries of an index). */
  manifests: string[];
  subject: string | null;
  /** `artifactType`, or the config media type of an image manifest without one. */
  artifactType: string | null;
  annotations: Record<string, string> | null;
}

const invalid = (message: string) => new RegistryError('MANIFEST_INVALID', message);

/**
 * Checks a manifest body against its declared Content-Type and the OCI image spec shapes
 * (PROTOCOLS.md §1.6, §1.14–1.16). Unknown config, layer and artifact media types are opaque
 * and accepted; unknown top-level manifest types are refused.
 */
export function parseManifest(contentType: string, body: Buffer): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('manifest must be a JSON object');
  const m = doc as Record<string, unknown>;
  if (m.schemaVersion !== 2) throw invalid('manifest schemaVersion must be 2');

  const declared = m.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw invalid('mediaType must be a string');
  const mediaType = contentType || declared || '';
  if (!MANIFEST_TYPES.has(mediaType)) {
    throw invalid(`unsupported manifest media type "${mediaType.slice(0, 100)}"`);
  }
  if (declared !== undefined && declared !== mediaType) {
    throw invalid(`Content-Type "${mediaType}" does not match the manifest mediaType "${declared.slice(0, 100)}"`);
  }

  const subject = m.subject === undefined ? null : descriptor(m.subject, 'subject').digest;
  const annotations = stringMap(m.annotations, 'annotations');
  const artifactType = optionalString(m.artifactType, 'artifactType');

  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(m.manifests)) throw invalid('an index must have a manifests array');
    const entries = m.manifests.map((d, i) => descriptor(d, `manifests[${i}]`));

    return { mediaType, blobs: [], manifests: entries.map((d) => d.digest), subject, artifactType, annotations };
  }

  const config = descriptor(m.config, 'config');
  if (!Array.isArray(m.layers)) throw invalid('an image manifest must have a layers array');
  const layers = m.layers.map((d, i) => descriptor(d, `layers[${i}]`));
  const blobs = [config, ...layers].filter((d) => !(isNonDistributable(d.mediaType) || d.urls?.length)).map((d) => d.digest);
  if (mediaType === OCI_MANIFEST && config.mediaType === 'application/vnd.oci.empty.v1+json' && !artifactType) {
    // image-spec: artifactType MUST be set when the config is the empty descriptor.
    throw invalid('artifactType is required when config.mediaType is application/vnd.oci.empty.v1+json');
  }

  return {
    mediaType,
    blobs,
    manifests: [],
    subject,
    artifactType: artifactType ?? config.mediaType,
    annotations,
  };
}

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where} must be a descriptor object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType.length === 0) throw invalid(`${where}.mediaType must be a string`);
  if (typeof d.digest !== 'string' || !tryParseDigest(d.digest)) {
    throw invalid(`${where}.digest is not a valid sha256 or sha512 digest`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  if (d.urls !== undefined && (!Array.isArray(d.urls) || !d.urls.every((u) => typeof u === 'string'))) {
    throw invalid(`${where}.urls must be an array of strings`);
  }
  stringMap(d.annotations, `${where}.annotations`);

  return { mediaType: d.mediaType, digest: d.digest, size: d.size, urls: d.urls as string[] | undefined };
}

function stringMap(value: unknown, where: string): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${where} must be an object of strings`);
  for (const v of Object.values(value)) if (typeof v !== 'string') throw invalid(`${where} values must be strings`);

  return value as Record<string, string>;
}

function optionalString(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`${where} must be a string`);

  return value;
}

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Anchors } from '../../src/trust/verify/evidence.js';
import type { CosignLayer } from '../../src/trust/verify/cosign.js';
import { parseCertificates } from '../../src/trust/verify/x509.js';

/** The shared, read-only signature fixtures (each directory's README says how each one verifies). */
export const FIXTURES = '/work/shared/fixtures';

export function fixture(...parts: string[]): Buffer {
  return readFileSync(path.join(FIXTURES, ...parts));
}

export function fixtureJson(...parts: string[]): unknown {
  return JSON.parse(fixture(...parts).toString('utf8'));
}

/** sha256 digest of a fixture file, as the registry would compute it for a manifest. */
export function fixtureDigest(...parts: string[]): string {
  return `sha256:${createHash('sha256').update(fixture(...parts)).digest('hex')}`;
}

export function fixtureKey(...parts: string[]): KeyObject {
  return createPublicKey(fixture(...parts));
}

/**
 * Reads a containers/image `signature-N` file: the 15 bytes `\0sigstore-json\n`, then the JSON of
 * one cosign `.sig` layer (mimeType, base64 payload, annotations).
 */
export function signatureLayer(...parts: string[]): CosignLayer {
  const raw = fixture(...parts);
  const json = JSON.parse(raw.subarray(15).toString('utf8')) as { mimeType: string; payload: string; annotations: Record<string, string> };

  return { mediaType: json.mimeType, annotations: json.annotations, blob: Buffer.from(json.payload, 'base64') };
}

/** Anchors with nothing trusted except what `partial` names. */
export function anchors(partial: Partial<Anchors>): Anchors {
  return { keys: [], sigstoreRoots: [], certificateStores: [], ...partial };
}

/** A certificate store made from PEM files. */
export function store(name: string, roots: Buffer, intermediates: Buffer = Buffer.alloc(0)): Anchors['certificateStores'][number] {
  return { name, roots: parseCertificates(roots), intermediates: parseCertificates(intermediates) };
}

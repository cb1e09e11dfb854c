import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { NewManifest } from '../../../src/storage/metadata/index.js';

/** The sha256 digest of `bytes`, as the registry writes it. */
export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A well-formed digest of random content, for rows that need one but no bytes. */
export function randomDigest(): string {
  return sha256(randomBytes(32));
}

/** Reads a whole stream into one buffer (only for the small bodies tests compare). */
export async function collect(stream: Readable | AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));

  return Buffer.concat(parts);
}

/** Yields `bytes` in pieces of `size`, the way a request body arrives. */
export async function* chunked(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

/** Yields `bytes` and then fails, like a client connection that drops mid-body. */
export async function* failingAfter(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
  throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

/** An image manifest row for `repository`; `extra` overrides any field. */
export function manifestRow(repository: string, extra: Partial<NewManifest> = {}): NewManifest {
  const content = Buffer.from(
    JSON.stringify({ schemaVersion: 2, salt: randomBytes(8).toString('hex') }),
  );

  return {
    repository,
    digest: sha256(content),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    subject: null,
    annotations: null,
    size: content.byteLength,
    content,
    children: [],
    actor: 'user:test',
    ...extra,
  };
}

/** Names in a mixed order whose byte order differs from any case- or accent-aware order. */
export const REPOSITORY_NAMES = ['b', 'a_b', 'a.b', 'a/b', 'a', 'a-b', 'ab', 'a__b', '0x', 'z9'];
export const REPOSITORY_NAMES_IN_BYTE_ORDER = [
  '0x',
  'a',
  'a-b',
  'a.b',
  'a/b',
  'a__b',
  'a_b',
  'ab',
  'b',
  'z9',
];

export const TAG_NAMES = ['v1_0', 'b', 'A', 'v10', 'a', '_x', 'B', 'v1.0', '1', 'v1-0', 'Z'];
export const TAG_NAMES_IN_BYTE_ORDER = [
  '1',
  'A',
  'B',
  'Z',
  '_x',
  'a',
  'b',
  'v1-0',
  'v1.0',
  'v10',
  'v1_0',
];

/** Reads every page of a `(after, limit) → names` listing and returns the pages. */
export async function pages(
  list: (after: string | undefined, limit: number) => Promise<string[]>,
  limit: number,
): Promise<string[][]> {
  const result: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page = await list(after, limit);
    if (page.length === 0) return result;
    result.push(page);
    if (page.length < limit) return result;
    after = page.at(-1);
  }
}

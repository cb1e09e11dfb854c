import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from '../errors/registry-error.js';

/** Digest algorithms Portcullis can verify, with the exact length of their hex encoding. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  digest: string;
}

/** True when `value` is a syntactically valid digest of a supported algorithm. */
export function isDigest(value: string): boolean {
  return tryParseDigest(value) !== undefined;
}

/** Parses a digest of a supported algorithm; undefined when the syntax or algorithm is wrong. */
export function tryParseDigest(value: string): ParsedDigest | undefined {
  if (value.length > 200 || !GRAMMAR.test(value)) return undefined;
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (!isAlgorithm(algorithm)) return undefined;
  if (hex.length !== DIGEST_ALGORITHMS[algorithm] || !/^[a-f0-9]+$/.test(hex)) return undefined;

  return { algorithm, hex, digest: value };
}

/** Parses a digest or throws `DIGEST_INVALID` naming the problem. */
export function parseDigest(value: string): ParsedDigest {
  const parsed = tryParseDigest(value);
  if (parsed) return parsed;
  const algorithm = value.split(':', 1)[0] ?? '';
  const reason =
    GRAMMAR.test(value) && !isAlgorithm(algorithm)
      ? `unsupported digest algorithm "${algorithm.slice(0, 32)}" (sha256 and sha512 are supported)`
      : 'invalid digest: expected <algorithm>:<lowercase hex> of the right length';
  throw new RegistryError('DIGEST_INVALID', reason);
}

export function isAlgorithm(value: string): value is DigestAlgorithm {
  return Object.hasOwn(DIGEST_ALGORITHMS, value);
}

export function createDigester(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

/** The digest of a whole buffer. */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

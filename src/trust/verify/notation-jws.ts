import { X509Certificate } from 'node:crypto';
import { Refusal, type NotationEnvelope } from './notation-envelope.js';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Signed attributes that hold RFC 3339 times in a JWS envelope. */
const TIME_ATTRIBUTES = [
  'io.cncf.notary.signingTime',
  'io.cncf.notary.authenticSigningTime',
  'io.cncf.notary.expiry',
];
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function base64url(value: unknown, what: string): string {
  if (typeof value !== 'string' || !BASE64URL.test(value))
    throw new Refusal(`JWS ${what} is not base64url`);

  return value;
}

function toTime(value: unknown): unknown {
  return typeof value === 'string' && RFC3339.test(value) ? new Date(value) : value;
}

function parseChain(x5c: unknown): X509Certificate[] {
  if (!Array.isArray(x5c) || x5c.length === 0)
    throw new Refusal('JWS header has no x5c certificate chain');

  return x5c.map((entry, index) => {
    try {
      if (typeof entry !== 'string') throw new Error('not a string');
      return new X509Certificate(Buffer.from(entry, 'base64'));
    } catch {
      throw new Refusal(`x5c entry ${index} is not a certificate`);
    }
  });
}

/**
 * Reads a JWS envelope in the flattened JSON serialization: signed attributes from the
 * protected header, the chain from the unprotected header's `x5c`.
 */
export function parseJws(bytes: Buffer): NotationEnvelope {
  let jws: unknown;
  try {
    jws = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Refusal('JWS envelope is not JSON');
  }
  if (!isObject(jws) || 'signatures' in jws)
    throw new Refusal('JWS envelope is not in the flattened JSON serialization');
  const encodedProtected = base64url(jws.protected, 'protected header');
  const encodedPayload = base64url(jws.payload, 'payload');
  const signature = Buffer.from(base64url(jws.signature, 'signature'), 'base64url');

  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedProtected, 'base64url').toString('utf8'));
  } catch {
    throw new Refusal('JWS protected header is not JSON');
  }
  if (!isObject(header)) throw new Refusal('JWS protected header is not an object');
  if (!isObject(jws.header)) throw new Refusal('JWS envelope has no unprotected header');

  const attributes = new Map<string, unknown>();
  for (const [name, value] of Object.entries(header)) {
    if (name.startsWith('io.cncf.notary.'))
      attributes.set(name, TIME_ATTRIBUTES.includes(name) ? toTime(value) : value);
  }

  return {
    algorithm: String(header.alg),
    contentType: header.cty,
    critical: Array.isArray(header.crit) ? header.crit : [],
    attributes,
    payload: Buffer.from(encodedPayload, 'base64url'),
    signingInput: Buffer.from(`${encodedProtected}.${encodedPayload}`, 'ascii'),
    signature,
    chain: parseChain(jws.header.x5c),
  };
}

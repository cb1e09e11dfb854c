import { X509Certificate } from 'node:crypto';
import { decode, encode, Tag } from 'cbor2';
import { Refusal, type NotationEnvelope } from './notation-envelope.js';

/** CBOR tag of a COSE_Sign1 message (RFC 9052 §4.2). */
const COSE_SIGN1 = 18;

/** Common header labels (RFC 9052 §3.1) and x5chain (RFC 9360). */
const LABEL = { alg: 1, crit: 2, contentType: 3, x5chain: 33 } as const;

/** COSE algorithm numbers notation uses, by their JWS names. */
const ALGORITHMS = new Map<unknown, string>([
  [-37, 'PS256'],
  [-38, 'PS384'],
  [-39, 'PS512'],
  [-7, 'ES256'],
  [-35, 'ES384'],
  [-36, 'ES512'],
]);

const STRICT = { preferMap: true, rejectDuplicateKeys: true } as const;

function decodeOrRefuse(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, STRICT);
  } catch {
    throw new Refusal(`${what} is not valid CBOR`);
  }
}

/** A plain Uint8Array view: cbor2 would encode a Buffer through its toJSON, not as a byte string. */
function byteString(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function parseChain(x5chain: unknown): X509Certificate[] {
  // RFC 9360 lets a chain of one certificate be a bare byte string instead of an array.
  const entries = x5chain instanceof Uint8Array ? [x5chain] : x5chain;
  if (!Array.isArray(entries) || entries.length === 0)
    throw new Refusal('COSE header has no x5chain certificate chain');

  return entries.map((entry: unknown, index) => {
    try {
      if (!(entry instanceof Uint8Array)) throw new Error('not a byte string');
      return new X509Certificate(entry);
    } catch {
      throw new Refusal(`x5chain entry ${index} is not a certificate`);
    }
  });
}

/**
 * Reads a tagged COSE_Sign1 envelope: signed attributes from the protected header map (tag-1
 * times arrive as Dates), the chain from unprotected label 33, and the Sig_structure that the
 * signature covers, rebuilt around the protected header's original bytes.
 */
export function parseCose(bytes: Buffer): NotationEnvelope {
  const message = decodeOrRefuse(bytes, 'COSE envelope');
  if (!(message instanceof Tag) || message.tag !== COSE_SIGN1 || !Array.isArray(message.contents)) {
    throw new Refusal('COSE envelope is not a tagged COSE_Sign1 message');
  }
  const [encodedProtected, unprotected, payload, signature] = message.contents as unknown[];
  if (!(encodedProtected instanceof Uint8Array) || !(unprotected instanceof Map)) {
    throw new Refusal('COSE_Sign1 headers are malformed');
  }
  if (!(payload instanceof Uint8Array))
    throw new Refusal('COSE_Sign1 payload is detached or malformed');
  if (!(signature instanceof Uint8Array)) throw new Refusal('COSE_Sign1 signature is malformed');

  const header = decodeOrRefuse(encodedProtected, 'COSE protected header');
  if (!(header instanceof Map)) throw new Refusal('COSE protected header is not a map');
  const attributes = new Map<string, unknown>();
  for (const [label, value] of header) {
    if (typeof label === 'string' && label.startsWith('io.cncf.notary.'))
      attributes.set(label, value);
  }
  const alg: unknown = header.get(LABEL.alg);
  const critical: unknown = header.get(LABEL.crit);

  return {
    algorithm: ALGORITHMS.get(alg) ?? `COSE algorithm ${String(alg)}`,
    contentType: header.get(LABEL.contentType),
    critical: Array.isArray(critical) ? critical : [],
    attributes,
    payload: Buffer.from(payload),
    signingInput: Buffer.from(
      encode(['Signature1', byteString(encodedProtected), new Uint8Array(0), byteString(payload)]),
    ),
    signature: Buffer.from(signature),
    chain: parseChain(unprotected.get(LABEL.x5chain)),
  };
}

import { constants, sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { encode, Tag } from 'cbor2';

const PAYLOAD_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
const HASHES = { PS256: 'sha256', ES256: 'sha256', PS384: 'sha384', ES384: 'sha384' } as const;
const COSE_ALGORITHMS = { PS256: -37, PS384: -38, ES256: -7, ES384: -35 } as const;

export interface EnvelopeOptions {
  key: KeyObject;
  /** The chain the envelope carries, leaf first. */
  chain: X509Certificate[];
  alg: keyof typeof HASHES;
  target: { digest: string; size: number; mediaType: string };
  /** Notary attributes beyond the signing scheme and time; Dates become times. */
  attributes?: Record<string, unknown>;
  /** The crit list; defaults to the signing scheme and every extra attribute. */
  crit?: string[];
  contentType?: string;
  /** Embeds these payload bytes instead of the ones that were signed. */
  embeddedPayload?: Buffer;
}

function payloadOf(options: EnvelopeOptions): Buffer {
  return Buffer.from(JSON.stringify({ targetArtifact: options.target }));
}

function signatureOver(options: EnvelopeOptions, input: Uint8Array): Buffer {
  const hash = HASHES[options.alg];
  if (options.alg.startsWith('PS')) {
    const saltLength = hash === 'sha256' ? 32 : 48;
    return sign(hash, input, {
      key: options.key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength,
    });
  }

  return sign(hash, input, { key: options.key, dsaEncoding: 'ieee-p1363' });
}

function attributesOf(options: EnvelopeOptions, signingTime: unknown): Record<string, unknown> {
  return {
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': signingTime,
    ...options.attributes,
  };
}

function critOf(options: EnvelopeOptions): string[] {
  return options.crit ?? ['io.cncf.notary.signingScheme', ...Object.keys(options.attributes ?? {})];
}

/** A JWS envelope in the flattened JSON serialization, signed with node:crypto. */
export function signJws(options: EnvelopeOptions): Buffer {
  const attributes = Object.fromEntries(
    Object.entries(attributesOf(options, new Date())).map(([name, value]) => [
      name,
      value instanceof Date ? value.toISOString() : value,
    ]),
  );
  const header = {
    alg: options.alg,
    cty: options.contentType ?? PAYLOAD_TYPE,
    crit: critOf(options),
    ...attributes,
  };
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url');
  const encodedPayload = payloadOf(options).toString('base64url');
  const signature = signatureOver(options, Buffer.from(`${encodedHeader}.${encodedPayload}`));
  const embedded = options.embeddedPayload?.toString('base64url') ?? encodedPayload;

  return Buffer.from(
    JSON.stringify({
      payload: embedded,
      protected: encodedHeader,
      header: { x5c: options.chain.map((cert) => cert.raw.toString('base64')) },
      signature: signature.toString('base64url'),
    }),
  );
}

/** Plain Uint8Array views, since cbor2 encodes a Buffer through its toJSON. */
function bytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A tagged COSE_Sign1 envelope, its Sig_structure encoded with cbor2 and signed with node:crypto. */
export function signCose(options: EnvelopeOptions): Buffer {
  const header = new Map<unknown, unknown>([
    [1, COSE_ALGORITHMS[options.alg]],
    [2, critOf(options)],
    [3, options.contentType ?? PAYLOAD_TYPE],
  ]);
  for (const [name, value] of Object.entries(attributesOf(options, new Date()))) {
    header.set(
      name,
      value instanceof Date ? new Tag(1, Math.floor(value.getTime() / 1000)) : value,
    );
  }
  const encodedHeader = encode(header);
  const payload = bytes(payloadOf(options));
  const signature = signatureOver(
    options,
    encode(['Signature1', encodedHeader, new Uint8Array(0), payload]),
  );
  const unprotected = new Map<unknown, unknown>([
    [33, options.chain.map((cert) => bytes(cert.raw))],
  ]);
  const embedded = options.embeddedPayload ? bytes(options.embeddedPayload) : payload;

  return Buffer.from(encode(new Tag(18, [encodedHeader, unprotected, embedded, bytes(signature)])));
}

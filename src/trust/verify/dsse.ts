/** The only DSSE payload type that carries an in-toto statement (PROTOCOLS.md §3.5). */
/** Signatures read from one envelope; real envelopes carry one or two. */
const MAX_SIGNATURES = 8;

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const STATEMENT_TYPES: ReadonlySet<string> = new Set([
  'https://in-toto.io/Statement/v1',
  'https://in-toto.io/Statement/v0.1',
]);

export interface Envelope {
  payloadType: string;
  /** The exact signed payload bytes, base64-decoded once and never re-serialized. */
  payload: Buffer;
  signatures: { keyid: string; sig: Buffer }[];
}

export interface Statement {
  predicateType: string;
  predicate: unknown;
}

/**
 * DSSE's pre-authentication encoding: what a DSSE signature actually covers. Signing the bare
 * payload would let an attacker replay it under another payload type.
 */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = `DSSEv1 ${type.length} ${payloadType} ${payload.length} `;

  return Buffer.concat([Buffer.from(head, 'utf8'), payload]);
}

/**
 * Decodes base64, standard or URL-safe (DSSE allows either), with or without padding; line
 * breaks are skipped, as cosign wraps long annotation values. Undefined for anything else.
 */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) return undefined;

  return Buffer.from(compact, 'base64');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a DSSE envelope (the blob of a cosign `.att` layer). */
export function parseEnvelope(blob: Buffer): Envelope | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(blob.toString('utf8'));
  } catch {
    return { problem: 'DSSE envelope is not valid JSON' };
  }
  if (!isRecord(json) || typeof json.payloadType !== 'string' || typeof json.payload !== 'string') {
    return { problem: 'DSSE envelope lacks payloadType or payload' };
  }
  const payload = decodeBase64(json.payload);
  if (!payload) return { problem: 'DSSE payload is not base64' };
  if (!Array.isArray(json.signatures) || json.signatures.length === 0) {
    return { problem: 'DSSE envelope has no signatures' };
  }
  if (json.signatures.length > MAX_SIGNATURES) {
    // Each one is tried against every trusted key: thousands would stall the pull.
    return { problem: `DSSE envelope has ${json.signatures.length} signatures; at most ${MAX_SIGNATURES} are read` };
  }
  const signatures: Envelope['signatures'] = [];
  for (const entry of json.signatures as unknown[]) {
    const sig = isRecord(entry) && typeof entry.sig === 'string' ? decodeBase64(entry.sig) : undefined;
    if (!sig || sig.length === 0) return { problem: 'DSSE signature is not base64' };
    signatures.push({ keyid: isRecord(entry) && typeof entry.keyid === 'string' ? entry.keyid : '', sig });
  }

  return { payloadType: json.payloadType, payload, signatures };
}

/**
 * Reads an in-toto statement from a DSSE payload and checks that one of its subjects is
 * `target` ("<algorithm>:<hex>"): a statement about some other artifact proves nothing here.
 */
export function readStatement(
  payloadType: string,
  payload: Buffer,
  target: string,
): Statement | { problem: string } {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return { problem: `DSSE payload type is ${payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { problem: 'in-toto statement is not valid JSON' };
  }
  if (!isRecord(json)) return { problem: 'in-toto statement is not a JSON object' };
  if (typeof json._type !== 'string' || !STATEMENT_TYPES.has(json._type)) {
    return { problem: `statement type ${String(json._type)} is not an in-toto Statement v1 or v0.1` };
  }
  if (typeof json.predicateType !== 'string') return { problem: 'in-toto statement has no predicateType' };
  const [algorithm = '', hex = ''] = target.split(':', 2);
  const subjects = Array.isArray(json.subject) ? (json.subject as unknown[]) : [];
  const named = subjects.some((s) => isRecord(s) && isRecord(s.digest) && s.digest[algorithm] === hex);
  if (!named) return { problem: `statement subjects do not include ${target}` };

  return { predicateType: json.predicateType, predicate: json.predicate };
}

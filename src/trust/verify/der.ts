/**
 * The little DER reading that certificate rules need and Node 20's X509Certificate does not
 * offer (key-usage bits, extension criticality, path length, signature algorithm). It reads
 * tag-length-value elements and object identifiers; it never interprets keys or signatures.
 */

/** One DER element: its tag byte and the bytes of its content. */
export interface DerElement {
  tag: number;
  content: Buffer;
}

/** Universal and context tags the certificate readers look for. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  sequence: 0x30,
} as const;

/** Reads the element starting at `offset`, and where the next one starts. */
function readElement(bytes: Buffer, offset: number): { element: DerElement; next: number } {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  if (tag === undefined || length === undefined) throw new Error('DER element is truncated');
  if ((tag & 0x1f) === 0x1f) throw new Error('DER high tag numbers are not used in certificates');
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER length is indefinite or too long');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[start + i] ?? NaN);
    start += count;
  }
  const end = start + length;
  if (!Number.isInteger(end) || end > bytes.length)
    throw new Error('DER element overruns its container');

  return { element: { tag, content: bytes.subarray(start, end) }, next: end };
}

/** Reads one whole element that must fill `bytes` exactly. */
export function readDer(bytes: Buffer): DerElement {
  const { element, next } = readElement(bytes, 0);
  if (next !== bytes.length) throw new Error('DER element has trailing bytes');

  return element;
}

/** The elements inside a constructed element (a SEQUENCE, SET or explicit tag). */
export function children(parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let offset = 0; offset < parent.content.length;) {
    const { element, next } = readElement(parent.content, offset);
    out.push(element);
    offset = next;
  }

  return out;
}

/** The dotted form of an OBJECT IDENTIFIER's content, for example `2.5.29.15`. */
export function oidText(content: Buffer): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (arcs.length === 0) {
      // The first encoded number packs the first two arcs as 40 * first + second.
      const first = Math.min(Math.floor(value / 40), 2);
      arcs.push(first, value - 40 * first);
    } else {
      arcs.push(value);
    }
    value = 0;
  }

  return arcs.join('.');
}

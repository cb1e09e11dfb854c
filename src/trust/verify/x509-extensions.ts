import type { X509Certificate } from 'node:crypto';
import { children, oidText, readDer, TAG, type DerElement } from './der.js';

const OID = {
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extendedKeyUsage: '2.5.29.37',
} as const;

/** Context tags of the GeneralName choices that carry text (RFC 5280 §4.2.1.6). */
const TEXT_NAMES = new Set([0x81 /* rfc822Name */, 0x82 /* dNSName */, 0x86 /* URI */]);

/** What certificate rules read from a certificate beyond what X509Certificate exposes. */
export interface CertificateExtensions {
  /** The OID of the algorithm the issuer signed this certificate with. */
  signatureAlgorithm: string;
  keyUsage?: { critical: boolean; digitalSignature: boolean; keyCertSign: boolean };
  basicConstraints?: { critical: boolean; ca: boolean; pathLength?: number };
  /** Extended key usage purposes as dotted OIDs. */
  extendedKeyUsage?: string[];
  /** Email, DNS and URI subject alternative names, in the order the certificate lists them. */
  subjectAltNames: string[];
}

function element(list: DerElement[], index: number, tag: number, what: string): DerElement {
  const found = list[index];
  if (found?.tag !== tag) throw new Error(`certificate ${what} is malformed`);

  return found;
}

function readKeyUsage(value: DerElement): { digitalSignature: boolean; keyCertSign: boolean } {
  if (value.tag !== TAG.bitString) throw new Error('certificate key usage is malformed');
  const first = value.content[1] ?? 0;

  return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
}

function readBasicConstraints(value: DerElement): { ca: boolean; pathLength?: number } {
  let ca = false;
  let pathLength: number | undefined;
  for (const field of children(value)) {
    if (field.tag === TAG.boolean) ca = field.content[0] !== 0;
    if (field.tag === TAG.integer)
      pathLength = field.content.reduce((n, byte) => n * 256 + byte, 0);
  }

  return pathLength === undefined ? { ca } : { ca, pathLength };
}

/**
 * Reads the signature algorithm and the extensions the Notary Project certificate rules test.
 * Throws when the certificate's DER is not shaped like an X.509 v3 certificate.
 */
export function readExtensions(cert: X509Certificate): CertificateExtensions {
  const top = children(readDer(cert.raw));
  const tbs = children(element(top, 0, TAG.sequence, 'body'));
  const algorithm = children(element(top, 1, TAG.sequence, 'signature algorithm'));
  const result: CertificateExtensions = {
    signatureAlgorithm: oidText(element(algorithm, 0, TAG.oid, 'signature algorithm').content),
    subjectAltNames: [],
  };

  const wrapper = tbs.find((field) => field.tag === 0xa3);
  const extensions = wrapper
    ? children(element(children(wrapper), 0, TAG.sequence, 'extensions'))
    : [];
  for (const extension of extensions) {
    const fields = children(extension);
    const id = oidText(element(fields, 0, TAG.oid, 'extension').content);
    const critical =
      fields.length === 3 && fields[1]?.tag === TAG.boolean && fields[1].content[0] !== 0;
    const value = readDer(element(fields, fields.length - 1, TAG.octetString, 'extension').content);
    if (id === OID.keyUsage) result.keyUsage = { critical, ...readKeyUsage(value) };
    if (id === OID.basicConstraints)
      result.basicConstraints = { critical, ...readBasicConstraints(value) };
    if (id === OID.extendedKeyUsage)
      result.extendedKeyUsage = children(value).map((oid) => oidText(oid.content));
    if (id === OID.subjectAltName) {
      for (const name of children(value)) {
        if (TEXT_NAMES.has(name.tag)) result.subjectAltNames.push(name.content.toString('latin1'));
      }
    }
  }

  return result;
}

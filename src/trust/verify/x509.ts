import { X509Certificate } from 'node:crypto';

/** How many certificates a chain may hold above the leaf before the search gives up. */
const MAX_DEPTH = 8;

export interface CertificateStore {
  roots: readonly X509Certificate[];
  intermediates: readonly X509Certificate[];
}

/** Parses every certificate in a PEM bundle. */
export function parseCertificates(pem: string | Buffer): X509Certificate[] {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

  return blocks.map((block) => new X509Certificate(block));
}

/**
 * A certificate's subject as one line, or its serial number when the subject is empty (Fulcio
 * leaves have none, and Node then reports `subject` as undefined despite its type).
 */
export function describeCertificate(cert: X509Certificate): string {
  const subject = cert.subject as string | undefined;

  return subject ? subject.split('\n').join(', ') : `serial ${cert.serialNumber}`;
}

function validAt(cert: X509Certificate, at: Date): boolean {
  return new Date(cert.validFrom) <= at && at <= new Date(cert.validTo);
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return parent.ca && child.checkIssued(parent) && child.verify(parent.publicKey);
}

/**
 * Builds a chain from `leaf` to one of the store's roots, using the certificates the signature
 * carried and the store's intermediates, with every certificate valid at `at` (the signing time
 * a transparency log or timestamp proves, or now). Returns the chain leaf first, root last,
 * or the reason none exists.
 */
export function verifyChain(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  store: CertificateStore,
  at: Date,
): { chain: X509Certificate[] } | { problem: string } {
  if (!validAt(leaf, at)) return { problem: `certificate ${describeCertificate(leaf)} is not valid at ${at.toISOString()}` };
  if (store.roots.some((root) => root.fingerprint256 === leaf.fingerprint256)) return { chain: [leaf] };
  const pool = [...presented, ...store.intermediates];
  const chain = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const root = store.roots.find((r) => signedBy(current, r));
    if (root) {
      if (!validAt(root, at)) return { problem: `root certificate ${describeCertificate(root)} is not valid at ${at.toISOString()}` };
      return { chain: [...chain, root] };
    }
    const parent = pool.find((c) => !chain.includes(c) && c.fingerprint256 !== current.fingerprint256 && signedBy(current, c));
    if (!parent) break;
    if (!validAt(parent, at)) return { problem: `intermediate certificate ${describeCertificate(parent)} is not valid at ${at.toISOString()}` };
    chain.push(parent);
    current = parent;
  }

  return { problem: 'certificate does not chain to a trusted root' };
}

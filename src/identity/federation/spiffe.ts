import { X509Certificate } from 'node:crypto';

const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_ID = 2048;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const MAX_CHAIN = 8;

export interface SpiffeId {
  id: string;
  trustDomain: string;
  /** The path with its leading `/`; empty for a trust domain's own id. */
  path: string;
}

/** Parses a SPIFFE ID as the SPIFFE-ID standard defines it; undefined when it is not one. */
export function parseSpiffeId(value: unknown): SpiffeId | undefined {
  if (typeof value !== 'string' || value.length > MAX_ID || !value.startsWith('spiffe://')) return undefined;
  const rest = value.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (!TRUST_DOMAIN.test(trustDomain)) return undefined;
  if (path !== '' && !path.slice(1).split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) return undefined;

  return { id: value, trustDomain, path };
}

/**
 * The SPIFFE ID an X.509-SVID leaf asserts, after the leaf checks of the X509-SVID standard:
 * not a CA, exactly one URI SAN and it a SPIFFE ID with a path, client authentication allowed
 * when extended key usage is present. Returns the reason when the certificate is not an SVID.
 */
export function svidIdentity(leaf: X509Certificate): SpiffeId | string {
  if (leaf.ca) return 'the client certificate is a CA certificate';
  const uris = (leaf.subjectAltName ?? '').split(', ').filter((entry) => entry.startsWith('URI:'));
  if (uris.length !== 1) return 'an X.509-SVID carries exactly one URI SAN';
  const id = parseSpiffeId(uris[0]!.slice(4));
  if (!id || id.path === '') return 'the URI SAN is not a workload SPIFFE ID';
  const usages = leaf.keyUsage;
  if (usages && usages.length > 0 && !usages.includes(CLIENT_AUTH)) return 'the certificate is not for client authentication';

  return id;
}

/**
 * True when `chain` (leaf first, then what the client sent) leads from the leaf to one of the
 * trust domain's CA certificates, each link issued and signed by the next, all within their
 * validity. TLS already checked the chain against every trusted domain together; this ties it
 * to the domain the SPIFFE ID names, so one domain's CA cannot vouch for another's workloads.
 */
export function chainsTo(chain: X509Certificate[], authorities: X509Certificate[], now = new Date()): boolean {
  const valid = (c: X509Certificate) => new Date(c.validFrom) <= now && now <= new Date(c.validTo);
  const signs = (issuer: X509Certificate, subject: X509Certificate) =>
    subject.checkIssued(issuer) && subject.verify(issuer.publicKey) && valid(issuer);
  let current = chain[0];
  if (!current || !valid(current)) return false;
  const intermediates = chain.slice(1).filter((c) => c.ca);
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (authorities.some((a) => signs(a, current!))) return true;
    const next = intermediates.find((c) => c !== current && signs(c, current!));
    if (!next) return false;
    current = next;
  }

  return false;
}

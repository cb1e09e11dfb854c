import { constants, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { Refusal } from './notation-envelope.js';
import { readExtensions, type CertificateExtensions } from './x509-extensions.js';

/** The algorithm a key of each RSA size must sign with: notation fixes it by the key. */
const RSA_ALGORITHMS: Record<number, string> = { 2048: 'PS256', 3072: 'PS384', 4096: 'PS512' };
const EC_ALGORITHMS: Record<string, string> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};
const HASHES: Record<string, { name: string; bytes: number }> = {
  PS256: { name: 'sha256', bytes: 32 },
  PS384: { name: 'sha384', bytes: 48 },
  PS512: { name: 'sha512', bytes: 64 },
  ES256: { name: 'sha256', bytes: 32 },
  ES384: { name: 'sha384', bytes: 48 },
  ES512: { name: 'sha512', bytes: 64 },
};

/** Certificate signature algorithms too weak to rely on: MD2, MD5 and SHA-1 with RSA, DSA or ECDSA. */
const WEAK_SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
};

/** Extended key usages that mark a certificate as made for something other than signing code. */
const FOREIGN_PURPOSES: Record<string, string> = {
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

/** A certificate's subject DN on one line, attributes in certificate order joined by `, `. */
export function subjectLine(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

/** The one algorithm notation allows for this key, or why the key is not allowed at all. */
function algorithmFor(key: KeyObject): { algorithm: string } | { problem: string } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    const algorithm = RSA_ALGORITHMS[bits];
    if (algorithm) return { algorithm };
    return { problem: `RSA key of ${bits} bits (notation allows 2048, 3072 or 4096)` };
  }
  if (key.asymmetricKeyType === 'ec') {
    const algorithm = EC_ALGORITHMS[details.namedCurve ?? ''];
    if (algorithm) return { algorithm };
    return {
      problem: `EC key on curve ${details.namedCurve} (notation allows P-256, P-384 or P-521)`,
    };
  }

  return { problem: `${key.asymmetricKeyType} key (notation allows RSA and EC keys)` };
}

/**
 * Checks that the envelope's algorithm is the one the leaf key fixes, then verifies the
 * signature over the signing input: RSASSA-PSS with a salt as long as the hash, or ECDSA
 * with the fixed-length r‖s encoding both JWS and COSE use.
 */
export function checkSignature(
  leaf: X509Certificate,
  algorithm: string,
  input: Buffer,
  signature: Buffer,
): void {
  const expected = algorithmFor(leaf.publicKey);
  if ('problem' in expected) throw new Refusal(`signing certificate has an ${expected.problem}`);
  if (expected.algorithm !== algorithm) {
    throw new Refusal(
      `envelope algorithm ${algorithm} does not match the signing key, which needs ${expected.algorithm}`,
    );
  }

  const hash = HASHES[algorithm]!;
  const key = algorithm.startsWith('PS')
    ? { key: leaf.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hash.bytes }
    : { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' as const };
  let valid = false;
  try {
    valid = verify(hash.name, input, key, signature);
  } catch {
    // A signature of the wrong length or shape makes node:crypto throw; it is simply invalid.
  }
  if (!valid) throw new Refusal('envelope signature does not verify');
}

function checkKeyStrength(cert: X509Certificate): void {
  const key = cert.publicKey;
  const { modulusLength = 0, namedCurve = '' } = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && modulusLength < 2048) {
    throw new Refusal(
      `certificate ${subjectLine(cert)} has a ${modulusLength}-bit RSA key, shorter than 2048`,
    );
  }
  if (key.asymmetricKeyType === 'ec' && !(namedCurve in EC_ALGORITHMS)) {
    throw new Refusal(
      `certificate ${subjectLine(cert)} has an EC key on ${namedCurve}, not P-256, P-384 or P-521`,
    );
  }
}

function checkLeaf(cert: X509Certificate, extensions: CertificateExtensions): void {
  const { keyUsage, basicConstraints, extendedKeyUsage = [] } = extensions;
  if (basicConstraints?.ca)
    throw new Refusal(`leaf certificate ${subjectLine(cert)} is a CA certificate`);
  if (!keyUsage?.digitalSignature) {
    throw new Refusal(`leaf certificate ${subjectLine(cert)} lacks the digitalSignature key usage`);
  }
  const foreign = extendedKeyUsage.find((oid) => oid in FOREIGN_PURPOSES);
  if (foreign) {
    throw new Refusal(
      `leaf certificate ${subjectLine(cert)} has extended key usage ${FOREIGN_PURPOSES[foreign]}`,
    );
  }
}

function checkAuthority(
  cert: X509Certificate,
  extensions: CertificateExtensions,
  authoritiesBelow: number,
): void {
  const { keyUsage, basicConstraints } = extensions;
  if (!basicConstraints?.critical || !basicConstraints.ca) {
    throw new Refusal(
      `CA certificate ${subjectLine(cert)} lacks a critical basicConstraints with cA`,
    );
  }
  if (!keyUsage?.keyCertSign)
    throw new Refusal(`CA certificate ${subjectLine(cert)} lacks the keyCertSign key usage`);
  const limit = basicConstraints.pathLength;
  if (limit !== undefined && authoritiesBelow > limit) {
    throw new Refusal(
      `CA certificate ${subjectLine(cert)} allows ${limit} CA certificates below it, not ${authoritiesBelow}`,
    );
  }
}

/**
 * Applies the Notary Project certificate rules to a verified chain (leaf first, trusted
 * certificate last): key strength everywhere, leaf rules on the first, CA rules on the rest.
 * The trusted certificate's own signature algorithm is not judged: trust in it comes from the
 * store, not from its self-signature.
 */
export function checkCertificateRules(chain: readonly X509Certificate[]): void {
  chain.forEach((cert, index) => {
    checkKeyStrength(cert);
    const extensions = readExtensions(cert);
    const weak = WEAK_SIGNATURES[extensions.signatureAlgorithm];
    if (weak && index < chain.length - 1)
      throw new Refusal(`certificate ${subjectLine(cert)} is signed with ${weak}`);
    if (index === 0) checkLeaf(cert, extensions);
    else checkAuthority(cert, extensions, index - 1);
  });
}

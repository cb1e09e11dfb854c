import { constants, verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';

/** The hash cosign pairs with each ECDSA curve (sigstore's default signature algorithms). */
const EC_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

function tryVerify(
  algorithm: string | null,
  data: Buffer,
  key: KeyObject | VerifyKeyObjectInput,
  signature: Buffer,
): boolean {
  try {
    return verify(algorithm, data, key, signature);
  } catch {
    return false;
  }
}

/**
 * Whether `signature` over the exact bytes `data` verifies with `key`, in any of the schemes a
 * cosign or DSSE signer may use with that key type: ECDSA (DER, or raw r‖s as some DSSE signers
 * emit), Ed25519, RSA PKCS#1 v1.5 or PSS (SHA-256).
 */
export function verifiesWith(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const hash = EC_HASH[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (!hash) return false;

      return (
        tryVerify(hash, data, key, signature) ||
        tryVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      );
    }
    case 'ed25519':
      return tryVerify(null, data, key, signature);
    case 'rsa':
      return (
        tryVerify('sha256', data, key, signature) ||
        tryVerify('sha256', data, pss(key), signature)
      );
    case 'rsa-pss':
      return tryVerify('sha256', data, pss(key), signature);
    default:
      return false;
  }
}

function pss(key: KeyObject): VerifyKeyObjectInput {
  return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO };
}

/** The name of the first trusted key any of `signatures` verifies with, if there is one. */
export function findTrustedKey(
  keys: readonly { name: string; key: KeyObject }[],
  data: Buffer,
  signatures: readonly Buffer[],
): string | undefined {
  const found = keys.find(({ key }) => signatures.some((sig) => verifiesWith(key, data, sig)));

  return found?.name;
}

import { createHash, createHmac } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { PrincipalStore } from '../storage/metadata/principals.js';

/** A token-signing key, ready for use. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  retiredAt: number | null;
  /** A hash of the private key, from which secrets every node agrees on are derived. */
  seed: Buffer;
}

export const TOKEN_ALGORITHM = 'ES256';

/**
 * Loads the token-signing keys, creating the first ES256 key when the store has none. The
 * `kid` is the key's RFC 7638 thumbprint. Several nodes starting together agree on one key
 * because the store keeps whichever was written first.
 */
export async function loadSigningKeys(principals: PrincipalStore): Promise<SigningKey[]> {
  let records = await principals.signingKeys();
  if (records.length === 0) {
    const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    records = await principals.addSigningKeyIfNone({
      kid,
      privateJwk: JSON.stringify(await exportJWK(privateKey)),
      publicJwk: JSON.stringify({ ...publicJwk, kid, alg: TOKEN_ALGORITHM, use: 'sig' }),
      createdAt: Date.now(),
    });
  }

  return Promise.all(
    records.map(async (r) => ({
      kid: r.kid,
      privateKey: (await importJWK(JSON.parse(r.privateJwk) as JWK, TOKEN_ALGORITHM)) as CryptoKey,
      publicJwk: JSON.parse(r.publicJwk) as JWK,
      retiredAt: r.retiredAt,
      seed: createHash('sha256').update(r.privateJwk).digest(),
    })),
  );
}

/**
 * A 32-byte secret for `purpose`, the same on every node, derived from the oldest signing key
 * (HMAC-SHA256 keyed by its seed). It changes only when that key is retired.
 */
export function deriveSecret(keys: readonly SigningKey[], purpose: string): Buffer {
  const oldest = keys[0];
  if (!oldest) throw new TypeError('no signing key to derive a secret from');

  return createHmac('sha256', oldest.seed).update(purpose).digest();
}

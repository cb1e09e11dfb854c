import { calculateJwkThumbprint, CompactSign, createLocalJWKSet, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';
import type { MetadataStore } from '../storage/metadata/index.js';
import type { PrincipalStore, SigningKeyRecord } from '../storage/metadata/principals.js';

/** A token-signing key, ready for use. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  createdAt: number;
  retiredAt: number | null;
}

export const TOKEN_ALGORITHM = 'ES256';

/** A fresh ES256 key as stored; its `kid` is the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(now = Date.now()): Promise<Omit<SigningKeyRecord, 'retiredAt'>> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);

  return {
    kid,
    privateJwk: JSON.stringify(await exportJWK(privateKey)),
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: TOKEN_ALGORITHM, use: 'sig' }),
    createdAt: now,
  };
}

/**
 * Creates the first signing key when the store has none. Several nodes starting together
 * agree on one key because the store keeps whichever was written first.
 */
export async function ensureSigningKey(principals: PrincipalStore): Promise<void> {
  if ((await principals.signingKeys()).length === 0) await principals.addSigningKeyIfNone(await generateSigningKey());
}

export interface KeySet {
  /** The key new tokens are signed with: the newest one not retired. */
  signing: SigningKey;
  /** Every key whose tokens may still be valid, for verification and the JWKS. */
  verifying: SigningKey[];
  jwks: ReturnType<typeof createLocalJWKSet>;
  document: JSONWebKeySet;
}

/**
 * The signing keys as of now, reloaded whenever the store's change feed moves, so a rotation
 * made with the CLI reaches every node on its next token. A retired key still verifies for
 * `overlapMs` after its retirement (the longest a token it signed can live), then drops out.
 */
export class KeyRing {
  private loaded: { generation: string; keys: SigningKey[] } | undefined;
  private built: { id: string; set: KeySet } | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly overlapMs: number,
  ) {}

  async current(now = Date.now()): Promise<KeySet> {
    const generation = this.store.changes.generation();
    if (this.loaded?.generation !== generation) {
      this.loaded = { generation, keys: await Promise.all((await this.store.principals.signingKeys()).map(toSigningKey)) };
    }
    const { keys } = this.loaded;
    const signing = keys.findLast((k) => k.retiredAt === null);
    if (!signing) throw new Error('no active token-signing key');
    const verifying = keys.filter((k) => k.retiredAt === null || k.retiredAt + this.overlapMs > now);
    const id = `${this.loaded.generation}|${verifying.map((k) => k.kid).join(',')}`;
    if (this.built?.id !== id) {
      const document = { keys: verifying.map((k) => k.publicJwk) };
      this.built = { id, set: { signing, verifying, jwks: createLocalJWKSet(document), document } };
    }

    return this.built.set;
  }
}

async function toSigningKey(record: SigningKeyRecord): Promise<SigningKey> {
  return {
    kid: record.kid,
    privateKey: (await importJWK(JSON.parse(record.privateJwk) as JWK, TOKEN_ALGORITHM)) as CryptoKey,
    publicJwk: JSON.parse(record.publicJwk) as JWK,
    createdAt: record.createdAt,
    retiredAt: record.retiredAt,
  };
}

/**
 * Signs arbitrary bytes (an audit checkpoint) with the current token-signing key, as a JWS
 * that carries the key's `kid`; returns the public key that verifies it as well.
 */
export function payloadSigner(keys: KeyRing): (payload: Uint8Array) => Promise<{ kid: string; publicJwk: JWK; jws: string }> {
  return async (payload) => {
    const { signing } = await keys.current();
    const jws = await new CompactSign(payload).setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: signing.kid }).sign(signing.privateKey);

    return { kid: signing.kid, publicJwk: signing.publicJwk, jws };
  };
}

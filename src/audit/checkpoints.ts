import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import type { AuditCheckpoint } from '../storage/metadata/index.js';

/** Signs a checkpoint's payload with the registry's current token-signing key (ES256). */
export type CheckpointSigner = (payload: Uint8Array) => Promise<{ kid: string; publicJwk: JWK; jws: string }>;

/** A checkpoint for the chain's event `seq` whose hash is `hash`. */
export async function makeCheckpoint(seq: number, hash: string, sign: CheckpointSigner, at = Date.now()): Promise<AuditCheckpoint> {
  const { kid, publicJwk, jws } = await sign(new TextEncoder().encode(JSON.stringify({ seq, hash, at })));

  return { seq, hash, at, kid, publicJwk: JSON.stringify(publicJwk), signature: jws };
}

/**
 * Why a checkpoint cannot be trusted, or undefined when its signature holds: it must verify
 * under its recorded public key, whose thumbprint is its `kid`, over exactly its own seq, hash
 * and time; with `trusted` (a JWKS kept outside the store), the key must also be one of those.
 */
export async function checkpointProblem(checkpoint: AuditCheckpoint, trusted?: Set<string>): Promise<string | undefined> {
  try {
    const jwk = JSON.parse(checkpoint.publicJwk) as JWK;
    if ((await calculateJwkThumbprint(jwk)) !== checkpoint.kid) return `the checkpoint at event ${checkpoint.seq} names a key it was not signed with`;
    if (trusted && !trusted.has(checkpoint.kid)) return `the checkpoint at event ${checkpoint.seq} is signed by key ${checkpoint.kid}, which is not among the trusted keys`;
    const { payload } = await compactVerify(checkpoint.signature, await importJWK(jwk, 'ES256'), { algorithms: ['ES256'] });
    const signed = JSON.parse(new TextDecoder().decode(payload)) as { seq?: unknown; hash?: unknown; at?: unknown };
    if (signed.seq !== checkpoint.seq || signed.hash !== checkpoint.hash || signed.at !== checkpoint.at) {
      return `the checkpoint at event ${checkpoint.seq} was altered after it was signed`;
    }

    return undefined;
  } catch {
    return `the checkpoint at event ${checkpoint.seq} has no valid signature`;
  }
}

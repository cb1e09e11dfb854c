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
  const problem = await signatureProblem(checkpoint, { seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at }, trusted);

  return problem && `the checkpoint at event ${checkpoint.seq} ${problem}`;
}

/** Why a signed statement does not hold: the key, the signature, or the signed content. */
export async function signatureProblem(
  signed: { kid: string; publicJwk: string; signature: string },
  content: Record<string, unknown>,
  trusted?: Set<string>,
): Promise<string | undefined> {
  try {
    const jwk = JSON.parse(signed.publicJwk) as JWK;
    if ((await calculateJwkThumbprint(jwk)) !== signed.kid) return 'names a key it was not signed with';
    if (trusted && !trusted.has(signed.kid)) return `is signed by key ${signed.kid}, which is not among the trusted keys`;
    const { payload } = await compactVerify(signed.signature, await importJWK(jwk, 'ES256'), { algorithms: ['ES256'] });
    const inside = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (Object.keys(content).some((key) => inside[key] !== content[key])) return 'was altered after it was signed';

    return undefined;
  } catch {
    return 'has no valid signature';
  }
}

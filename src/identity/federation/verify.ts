import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { IssuerRecord } from '../../storage/metadata/federation.js';
import { KeysUnavailable } from './documents.js';
import type { IssuerKeys } from './keys.js';
import { parseSpiffeId } from './spiffe.js';

/** Leeway for the clocks of issuers and of this registry. */
export const EXTERNAL_LEEWAY_SECONDS = 30;
const MAX_TOKEN_LENGTH = 16 * 1024;
const SVID_HEADERS = new Set(['alg', 'kid', 'typ']);

/** Which check refused an external token; recorded in logs (and the audit, when it lands). */
export type RefusalReason =
  | 'malformed'
  | 'unknown-issuer'
  | 'algorithm-not-allowed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'issued-in-future'
  | 'wrong-audience'
  | 'wrong-issuer'
  | 'missing-claim'
  | 'bad-header'
  | 'bad-spiffe-id'
  | 'keys-unavailable'
  | 'bad-certificate'
  | 'revoked'
  | 'no-rule';

/** An external token or certificate was refused; the message is safe to show the client. */
export class FederationRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly issuer?: string,
    /** More for the log than the client gets, e.g. which claim each rule missed; never a value. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'FederationRefusal';
  }
}

/** The unverified `iss` and `sub` of a token, used only to pick which issuer should verify it. */
export function peek(token: string): { iss?: string; sub?: string } {
  if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) {
    throw new FederationRefusal('malformed', 'the token is not a signed JWT');
  }
  try {
    const payload = decodeJwt(token) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return { iss: text(payload.iss), sub: text(payload.sub) };
  } catch {
    throw new FederationRefusal('malformed', 'the token is not a signed JWT');
  }
}

/**
 * Verifies an external token against one issuer: allowed algorithm, signature by one of the
 * issuer's keys, exact `iss` (OIDC), an accepted audience, `exp` present and not past, `nbf`
 * and `iat` not in the future, and for SPIFFE the JWT-SVID header and subject rules. Returns
 * the claims; throws FederationRefusal naming the check that failed.
 */
export async function verifyExternal(token: string, issuer: IssuerRecord, keys: IssuerKeys): Promise<JWTPayload> {
  // Another issuer's token is told so before any key is looked up (or fetched) for it.
  if (issuer.kind === 'oidc' && peek(token).iss !== issuer.issuer) {
    throw refusal('wrong-issuer', `the token's issuer is not ${issuer.issuer}`, issuer);
  }
  peek(token);
  const header = decodeProtectedHeader(token);
  if (typeof header.alg !== 'string' || !issuer.algorithms.includes(header.alg)) {
    throw refusal('algorithm-not-allowed', `the token's algorithm ${JSON.stringify(String(header.alg))} is not accepted from ${issuer.alias}`, issuer);
  }
  if (issuer.kind === 'spiffe') {
    if (Object.keys(header).some((k) => !SVID_HEADERS.has(k)) || (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE')) {
      throw refusal('bad-header', 'a JWT-SVID header may carry only alg, kid and typ (JWT or JOSE)', issuer);
    }
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys.key, {
      algorithms: issuer.algorithms,
      audience: issuer.audiences,
      ...(issuer.kind === 'oidc' ? { issuer: issuer.issuer } : {}),
      clockTolerance: EXTERNAL_LEEWAY_SECONDS,
      requiredClaims: ['exp', 'sub', 'aud'],
    }));
  } catch (err) {
    throw explain(err, issuer);
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw refusal('malformed', 'the token\'s "sub" claim is not a string', issuer);
  if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + EXTERNAL_LEEWAY_SECONDS) {
    throw refusal('issued-in-future', 'the token was issued in the future (iat)', issuer);
  }
  if (issuer.kind === 'spiffe') {
    const id = parseSpiffeId(payload.sub ?? '');
    if (!id || id.trustDomain !== issuer.issuer || id.path === '') {
      throw refusal('bad-spiffe-id', `the token's subject is not a workload SPIFFE ID of trust domain ${issuer.issuer}`, issuer);
    }
  }

  return payload;
}

function refusal(reason: RefusalReason, message: string, issuer: IssuerRecord): FederationRefusal {
  return new FederationRefusal(reason, message, issuer.alias);
}

/** Turns jose's error into the check that failed, in words a CI log reader understands. */
function explain(err: unknown, issuer: IssuerRecord): FederationRefusal {
  if (err instanceof FederationRefusal) return err;
  if (err instanceof KeysUnavailable) return refusal('keys-unavailable', `the keys of ${issuer.alias} cannot be obtained right now`, issuer);
  if (err instanceof errors.JWTExpired) return refusal('expired', 'the token has expired', issuer);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return refusal('missing-claim', `the token lacks the "${err.claim}" claim`, issuer);
    if (err.claim === 'aud') return refusal('wrong-audience', `the token's audience is not one of: ${issuer.audiences.join(', ')}`, issuer);
    if (err.claim === 'iss') return refusal('wrong-issuer', `the token's issuer is not ${issuer.issuer}`, issuer);
    if (err.claim === 'nbf') return refusal('not-yet-valid', 'the token is not valid yet (nbf)', issuer);
    if (err.claim === 'iat') return refusal('issued-in-future', 'the token was issued in the future (iat)', issuer);
    return refusal('malformed', `the token's "${err.claim}" claim is invalid`, issuer);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return refusal('unknown-key', `no key of ${issuer.alias} matches the token's key id`, issuer);
  if (err instanceof errors.JWSSignatureVerificationFailed) return refusal('bad-signature', "the token's signature does not verify", issuer);
  if (err instanceof errors.JOSEAlgNotAllowed) return refusal('algorithm-not-allowed', `the token's algorithm is not accepted from ${issuer.alias}`, issuer);

  return refusal('malformed', 'the token is not a valid signed JWT', issuer);
}

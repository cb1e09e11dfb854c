import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { FEDERATION_ALGORITHMS } from '../../config/schema.js';
import { RegistryError } from '../../errors/registry-error.js';
import { sameText } from './pkce.js';

/** Leeway for the provider's clock and ours. */
const LEEWAY_SECONDS = 30;

export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  nonce: string;
}

/**
 * Verifies an ID token (OpenID Connect Core §3.1.3.7): a signature by one of the provider's
 * keys with an asymmetric algorithm (never `none` or HMAC, whose key would be our client
 * secret), the exact issuer, this client among the audiences (and as `azp` when it is one of
 * several), not expired, and the nonce of this very sign-in.
 */
export async function verifyIdToken(token: string, keys: JWTVerifyGetKey, expected: IdTokenExpectations): Promise<JWTPayload> {
  if (token.length > 16 * 1024) throw refused('the ID token is too large');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      algorithms: [...FEDERATION_ALGORITHMS],
      issuer: expected.issuer,
      audience: expected.clientId,
      clockTolerance: LEEWAY_SECONDS,
      requiredClaims: ['exp', 'iat', 'sub'],
    }));
  } catch (err) {
    if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
      throw new RegistryError('UNAVAILABLE', "the OpenID provider's keys cannot be obtained right now", { cause: err });
    }
    throw refused(explain(err));
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if ((audiences.length > 1 || payload.azp !== undefined) && payload.azp !== expected.clientId) {
    throw refused('the ID token was issued to another client (azp)');
  }
  if (typeof payload.nonce !== 'string' || !sameText(payload.nonce, expected.nonce)) {
    throw refused('the ID token does not carry the nonce of this sign-in');
  }

  return payload;
}

function explain(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the ID token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the ID token was issued for another client (aud)';
    if (err.claim === 'iss') return 'the ID token names another issuer';
    if (err.reason === 'missing') return `the ID token lacks the "${err.claim}" claim`;
    return `the ID token's "${err.claim}" claim is invalid`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return "the ID token's signing algorithm is not accepted (asymmetric algorithms only)";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the ID token's signature does not verify";
  if (err instanceof errors.JWKSNoMatchingKey) return "no key of the provider matches the ID token's key id";

  return 'the ID token is not a valid signed JWT';
}

function refused(message: string): RegistryError {
  return new RegistryError('DENIED', `sign-in refused: ${message}`);
}

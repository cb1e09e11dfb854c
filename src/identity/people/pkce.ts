import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.1: a code verifier is 43-128 characters of this alphabet. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** An S256 challenge is the base64url SHA-256 of the verifier: always 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** 32 random bytes in base64url (43 characters): codes, verifiers, nonces, cookie values. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The S256 code challenge of a verifier. */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** A fresh PKCE pair; the verifier stays with whoever started the flow. */
export function newPkce(): { verifier: string; challenge: string } {
  const verifier = randomToken();

  return { verifier, challenge: s256(verifier) };
}

export function isVerifier(value: string): boolean {
  return VERIFIER.test(value);
}

export function isChallenge(value: string): boolean {
  return CHALLENGE.test(value);
}

/** True when the verifier is well formed and hashes to the challenge (compared in constant time). */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!isVerifier(verifier) || !isChallenge(challenge)) return false;

  return sameText(s256(verifier), challenge);
}

/** Constant-time equality of two strings (their lengths are not secret). */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');

  return left.length === right.length && timingSafeEqual(left, right);
}

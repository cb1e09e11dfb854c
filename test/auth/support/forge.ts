import { createHmac, randomUUID } from 'node:crypto';
import {
  SignJWT,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { TestRegistry } from '../../helpers/registry.js';
import { withStore } from './accounts.js';

/** The registry's own signing key, read from the `signing_keys` table like an insider could. */
export interface RealKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function readSigningKey(registry: TestRegistry): Promise<RealKey> {
  const [record] = await withStore(registry, (store) => store.principals.signingKeys());
  if (!record) throw new Error('the registry has no signing key');

  return {
    kid: record.kid,
    privateKey: (await importJWK(JSON.parse(record.privateJwk) as JWK, 'ES256')) as CryptoKey,
    publicJwk: JSON.parse(record.publicJwk) as JWK,
  };
}

/** Claims like the registry issues, for `principal`, valid now, with `access`. */
export function claimsFor(
  principal: string,
  access: unknown[],
  overrides: JWTPayload = {},
): JWTPayload {
  const now = Math.floor(Date.now() / 1000);

  return {
    iss: 'portcullis',
    aud: 'portcullis',
    sub: principal,
    name: 'forged',
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: randomUUID(),
    access,
    ...overrides,
  };
}

/** Signs `claims` as ES256 with `key`, under the given protected header fields. */
export function signEs256(
  claims: JWTPayload,
  key: CryptoKey,
  header: { kid: string; typ?: string },
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', ...header }).sign(key);
}

/** A fresh EC P-256 key nobody trusts. */
export async function foreignKey(): Promise<CryptoKey> {
  const { privateKey } = await generateKeyPair('ES256');

  return privateKey;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned token (`alg: none`). */
export function unsignedToken(claims: JWTPayload, kid: string): string {
  return `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims)}.`;
}

/** An HS256 token whose HMAC secret is `secret` (e.g. the server's public key). */
export function hmacToken(claims: JWTPayload, kid: string, secret: string | Buffer): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims)}`;
  const signature = createHmac('sha256', secret).update(input).digest('base64url');

  return `${input}.${signature}`;
}

/** The token with its payload replaced and the original signature kept. */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');

  return `${header}.${b64(payload)}.${signature}`;
}

import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, type JSONWebKeySet } from 'jose';
import type { ResourceScope } from '../access/decide.js';
import type { Authenticated } from './authenticate.js';
import { TOKEN_ALGORITHM, type KeyRing } from './keys.js';

/** The claims of a registry token (PROTOCOLS.md §2.5) plus the user name for logs. */
export interface TokenClaims {
  sub: string;
  name: string;
  jti: string;
  exp: number;
  iat: number;
  /** The issue time in milliseconds (`iat_ms`), so a revocation can cut at the exact moment. */
  issuedAtMs: number;
  access: ResourceScope[];
  /** For federated workloads (`fed`): the external issuer, subject and the rule that matched. */
  federated?: { issuer: string; subject: string; rule: string };
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: Date;
}

export interface TokenServiceOptions {
  issuer: string;
  service: string;
  ttlSeconds: number;
}

/** Leeway for clock skew between nodes, as distribution allows. */
export const TOKEN_LEEWAY_SECONDS = 60;
const CACHE_LIMIT = 10_000;
/** Federated workloads get tokens of at most five minutes, whatever `auth.tokenTtl` says. */
export const FEDERATED_TTL_SECONDS = 300;

/**
 * Issues and verifies ES256 registry tokens. Verified tokens are remembered until they expire
 * so that the signature is checked once per token, not once per request; the subject is still
 * re-checked on every request by the caller.
 */
export class TokenService {
  private readonly verified = new Map<string, TokenClaims>();

  constructor(
    private readonly keys: KeyRing,
    private readonly options: TokenServiceOptions,
  ) {}

  /** The JWKS document listing every key whose tokens may still be valid. */
  async publicKeys(): Promise<JSONWebKeySet> {
    return (await this.keys.current()).document;
  }

  /**
   * Signs a token for `subject`. A federated subject's token lasts at most five minutes, and no
   * token outlives the credential it was traded for (`notAfter`).
   */
  async issue(subject: Pick<Authenticated, 'principal' | 'name' | 'federated' | 'notAfter'>, access: ResourceScope[]): Promise<IssuedToken> {
    const key = (await this.keys.current()).signing;
    const issuedAt = new Date();
    const iat = Math.floor(issuedAt.getTime() / 1000);
    let ttl = subject.federated ? Math.min(this.options.ttlSeconds, FEDERATED_TTL_SECONDS) : this.options.ttlSeconds;
    if (subject.notAfter !== undefined) ttl = Math.max(1, Math.min(ttl, Math.floor(subject.notAfter / 1000) - iat));
    const claims: Record<string, unknown> = { access, name: subject.name, iat_ms: issuedAt.getTime() };
    if (subject.federated) claims.fed = subject.federated;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT', kid: key.kid })
      .setIssuer(this.options.issuer)
      .setSubject(subject.principal)
      .setAudience(this.options.service)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + ttl)
      .setJti(randomUUID())
      .sign(key.privateKey);

    return { token, expiresIn: ttl, issuedAt };
  }

  /** The token's claims, or undefined for anything malformed, forged, foreign or expired. */
  async verify(token: string): Promise<TokenClaims | undefined> {
    const now = Math.floor(Date.now() / 1000);
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp + TOKEN_LEEWAY_SECONDS > now) return cached;
      this.verified.delete(token);
    }
    try {
      const { jwks } = await this.keys.current();
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.service,
        clockTolerance: TOKEN_LEEWAY_SECONDS,
        typ: 'JWT',
        requiredClaims: ['sub', 'exp', 'jti', 'iat'],
      });
      const claims = toClaims(payload);
      if (claims) this.remember(token, claims);

      return claims;
    } catch {
      return undefined;
    }
  }

  private remember(token: string, claims: TokenClaims): void {
    if (this.verified.size >= CACHE_LIMIT) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, claims);
  }
}

function toClaims(payload: Record<string, unknown>): TokenClaims | undefined {
  const access = payload.access;
  if (!Array.isArray(access)) return undefined;
  const scopes: ResourceScope[] = [];
  for (const entry of access as unknown[]) {
    const e = entry as Partial<ResourceScope> | null;
    if (!e || typeof e.type !== 'string' || typeof e.name !== 'string' || !Array.isArray(e.actions)) return undefined;
    scopes.push({ type: e.type, name: e.name, actions: e.actions.filter((a): a is string => typeof a === 'string') });
  }

  return {
    sub: String(payload.sub),
    name: typeof payload.name === 'string' ? payload.name : '',
    jti: String(payload.jti),
    exp: Number(payload.exp),
    iat: Number(payload.iat),
    issuedAtMs: typeof payload.iat_ms === 'number' ? payload.iat_ms : Number(payload.iat) * 1000,
    access: scopes,
    ...(isFederated(payload.fed) ? { federated: payload.fed } : {}),
  };
}

function isFederated(value: unknown): value is TokenClaims['federated'] {
  const v = value as Record<string, unknown> | null | undefined;

  return !!v && typeof v.issuer === 'string' && typeof v.subject === 'string' && typeof v.rule === 'string';
}

import { X509Certificate } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type CompactJWSHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import { isKeyUrl } from '../../config/schema.js';
import type { IssuerRecord } from '../../storage/metadata/federation.js';
import { JsonDocument, KeysUnavailable } from './documents.js';

const DISCOVERY_MAX_AGE_MS = 60 * 60 * 1000;
const JWKS_MAX_AGE_MS = 10 * 60 * 1000;
const DEFAULT_BUNDLE_REFRESH_S = 300;

/** The keys of one trusted issuer. */
export interface IssuerKeys {
  /** The key that verifies a token, fetched again on an unknown `kid` at a bounded rate. */
  key: JWTVerifyGetKey;
  /** X.509 CA certificates of a SPIFFE trust domain, for client certificates; [] for OIDC. */
  authorities(): Promise<X509Certificate[]>;
}

/** Builds the key source an issuer's definition names; `cooldownMs` bounds refetches. */
export function issuerKeys(issuer: IssuerRecord, cooldownMs: number): IssuerKeys {
  if (issuer.kind === 'spiffe') return spiffeBundleKeys(issuer, cooldownMs);
  if (issuer.jwksFile) return documentKeys(new JsonDocument({ file: issuer.jwksFile }, { maxAgeMs: Infinity, cooldownMs }), asJwks);
  if (issuer.jwksUri) return remoteKeys(() => Promise.resolve(issuer.jwksUri!), cooldownMs);
  const discovery = new JsonDocument(
    { url: `${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration` },
    { maxAgeMs: DISCOVERY_MAX_AGE_MS, cooldownMs },
  );

  return remoteKeys(async () => {
    const document = (await discovery.get()) as { issuer?: unknown; jwks_uri?: unknown } | null;
    // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if (document?.issuer !== issuer.issuer) throw new KeysUnavailable('the discovery document names another issuer');
    if (typeof document.jwks_uri !== 'string' || !isKeyUrl(document.jwks_uri)) {
      throw new KeysUnavailable('the discovery document has no usable jwks_uri');
    }

    return document.jwks_uri;
  }, cooldownMs);
}

/** A JWKS fetched by jose, which caches it and refetches on an unknown `kid` after the cooldown. */
function remoteKeys(location: () => Promise<string>, cooldownMs: number): IssuerKeys {
  let current: { url: string; set: JWTVerifyGetKey } | undefined;
  let failedAt = -Infinity;

  return {
    key: guarded(async (header, token) => {
      const url = await location();
      if (current?.url !== url) {
        const set = createRemoteJWKSet(new URL(url), { cooldownDuration: cooldownMs, cacheMaxAge: JWKS_MAX_AGE_MS });
        current = { url, set };
      }
      // jose fetches again on every call while it holds no keys; after a failure, wait out the cooldown.
      if (Date.now() - failedAt < cooldownMs) throw new KeysUnavailable('the issuer could not be reached a moment ago');
      try {
        return await current.set(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)) failedAt = Date.now();
        throw err;
      }
    }),
    authorities: async () => [],
  };
}

/** Keys from a document we load ourselves (a JWKS file, or a SPIFFE bundle). */
function documentKeys(document: JsonDocument, select: (value: unknown) => JSONWebKeySet): IssuerKeys {
  const sets = new WeakMap<object, JWTVerifyGetKey>();
  const setOf = async () => {
    const value = (await document.get()) as object;
    let set = sets.get(value);
    if (!set) {
      set = createLocalJWKSet(select(value));
      sets.set(value, set);
    }

    return set;
  };

  return {
    key: guarded(async (header, token) => {
      try {
        return await (await setOf())(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey) || !(await document.refresh())) throw err;
        return (await setOf())(header, token);
      }
    }),
    authorities: async () => [],
  };
}

/**
 * A SPIFFE trust bundle (JWK set): `jwt-svid` keys (each with a `kid`) verify JWT-SVIDs,
 * `x509-svid` entries carry CA certificates in `x5c`; other entries are ignored. The bundle's
 * `spiffe_refresh_hint` says how long to keep it.
 */
function spiffeBundleKeys(issuer: IssuerRecord, cooldownMs: number): IssuerKeys {
  const source = issuer.jwksFile ? { file: issuer.jwksFile } : { url: issuer.jwksUri! };
  const document = new JsonDocument(source, { maxAgeMs: DEFAULT_BUNDLE_REFRESH_S * 1000, cooldownMs });
  const entries = (value: unknown): Array<Record<string, unknown>> => {
    const bundle = value as { keys?: unknown; spiffe_refresh_hint?: unknown } | null;
    const hint = bundle?.spiffe_refresh_hint;
    if (typeof hint === 'number' && hint > 0) document.keepFor(Math.min(Math.max(hint, 30), 86_400) * 1000);
    return Array.isArray(bundle?.keys) ? (bundle.keys as Array<Record<string, unknown>>).filter((k) => k && typeof k === 'object') : [];
  };
  const keys = documentKeys(document, (value) => ({
    // jose takes only keys whose `use` is absent or `sig`; the bundle marks them `jwt-svid`.
    keys: entries(value)
      .filter((k) => k.use === 'jwt-svid' && typeof k.kid === 'string' && (k.kty === 'RSA' || k.kty === 'EC'))
      .map(({ use: _use, ...k }) => k),
  }));

  return {
    key: keys.key,
    authorities: async () => {
      const found: X509Certificate[] = [];
      for (const k of entries(await document.get())) {
        const der = k.use === 'x509-svid' && Array.isArray(k.x5c) ? k.x5c[0] : undefined;
        if (typeof der !== 'string') continue;
        try {
          const certificate = new X509Certificate(Buffer.from(der, 'base64'));
          if (certificate.ca) found.push(certificate);
        } catch {
          // An unreadable entry is ignored like any other unusable one.
        }
      }

      return found;
    },
  };
}

function asJwks(value: unknown): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new KeysUnavailable('the key file is not a JWKS');

  return { keys } as JSONWebKeySet;
}

/** Anything but "no such key" while resolving a key means the keys could not be had. */
function guarded(resolve: (header: CompactJWSHeaderParameters, token: FlattenedJWSInput) => Promise<unknown>): JWTVerifyGetKey {
  return (async (header: CompactJWSHeaderParameters, token: FlattenedJWSInput) => {
    try {
      return await resolve(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      if (err instanceof KeysUnavailable) throw err;
      throw new KeysUnavailable("cannot obtain the issuer's keys", { cause: err });
    }
  }) as JWTVerifyGetKey;
}

import { availableParallelism } from 'node:os';
import { z } from 'zod';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const hostPort = z.string().superRefine((value, ctx) => {
  const match = HOST_PORT.exec(value);
  if (!match) ctx.addIssue({ code: 'custom', message: 'expected HOST:PORT, e.g. 127.0.0.1:5000' });
  else if (Number(match[2]) > 65535) ctx.addIssue({ code: 'custom', message: 'port must be at most 65535' });
});

const seconds = z.number().int().positive();

/** One core is left to the thread that receives uploads; a 1-core machine still scans off it. */
const SCAN_WORKERS = Math.max(1, availableParallelism() - 1);

/** Signature algorithms an external issuer may use: asymmetric only, never `none` or HMAC. */
export const FEDERATION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
/** JWT-SVIDs allow fewer (the SPIFFE JWT-SVID standard): no EdDSA. */
export const SPIFFE_ALGORITHMS = FEDERATION_ALGORITHMS.filter((a) => a !== 'EdDSA');

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

/** An https URL, or http on a loopback address (for tests and local issuers). */
export function isKeyUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname));
  } catch {
    return false;
  }
}

const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;

/** One trusted external issuer: an OIDC provider or a SPIFFE trust domain. */
export const issuerSchema = z
  .object({
    alias: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'aliases are 1-64 characters: a-z, 0-9, ".", "_", "-"'),
    kind: z.enum(['oidc', 'spiffe']).default('oidc'),
    issuer: z.string().min(1).max(1024),
    audiences: z.array(z.string().min(1).max(1024)).min(1, 'at least one audience is required'),
    algorithms: z.array(z.enum(FEDERATION_ALGORITHMS)).min(1).optional(),
    jwksUri: z.string().refine(isKeyUrl, 'must be an https URL (http only on loopback)').optional(),
    jwksFile: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.jwksUri && value.jwksFile) ctx.addIssue({ code: 'custom', message: 'give jwksUri or jwksFile, not both' });
    if (value.kind === 'oidc' && !isKeyUrl(value.issuer)) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'an OIDC issuer is an https URL (http only on loopback)' });
    }
    if (value.kind === 'spiffe') {
      if (!TRUST_DOMAIN.test(value.issuer)) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'a SPIFFE issuer is a trust domain name such as example.org' });
      if (!value.jwksUri && !value.jwksFile) ctx.addIssue({ code: 'custom', message: 'a SPIFFE trust domain needs its bundle: jwksUri or jwksFile' });
      if (value.algorithms?.some((a) => a === 'EdDSA')) ctx.addIssue({ code: 'custom', path: ['algorithms'], message: 'JWT-SVIDs do not use EdDSA' });
    }
  })
  .transform((value) => ({
    ...value,
    algorithms: value.algorithms ?? (value.kind === 'spiffe' ? [...SPIFFE_ALGORITHMS] : ['RS256', 'ES256']),
  }));

export type IssuerConfig = z.infer<typeof issuerSchema>;

/**
 * Sign-in of people through an OpenID Connect provider, with this registry as the relying
 * party. `sessionTtl` is the lifetime of refresh tokens such a sign-in mints: group changes at
 * the provider reach the registry at the next sign-in, so at the latest after that long.
 */
export const oidcLoginSchema = z
  .object({
    issuer: z.string().max(1024).refine(isKeyUrl, 'the issuer must be an https URL (http only on loopback)'),
    clientId: z.string().min(1).max(1024),
    clientSecret: z.string().min(1).max(4096).optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'scopes are printable ASCII without spaces, quotes or backslashes')).min(1).default(['openid', 'profile', 'email']),
    usernameClaim: z.string().min(1).max(256).default('preferred_username'),
    groupsClaim: z.string().min(1).max(256).default('groups'),
    sessionTtl: seconds.default(12 * 3600),
  })
  .strict()
  .refine((value) => value.scopes.includes('openid'), { path: ['scopes'], message: 'the scopes must include openid' })
  // `config check` prints the configuration as JSON: the client secret shows as redacted there.
  .transform((value) =>
    Object.defineProperty(value, 'toJSON', { value: () => ({ ...value, clientSecret: value.clientSecret && '[redacted]' }), enumerable: false }),
  );

export type OidcLoginConfig = z.infer<typeof oidcLoginSchema>;

/** Where audit events are also sent: rotating JSON-lines files, syslog, or a webhook. */
export const auditExportSchema = z.discriminatedUnion('kind', [
  z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'export names are 1-64 characters: a-z, 0-9, ".", "_", "-"'),
      kind: z.literal('file'),
      path: z.string().min(1),
      maxBytes: z.number().int().min(1024).default(100 * 1024 * 1024),
      keep: z.number().int().min(1).max(1000).default(10),
    })
    .strict(),
  z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'export names are 1-64 characters: a-z, 0-9, ".", "_", "-"'),
      kind: z.literal('syslog'),
      address: hostPort,
      protocol: z.enum(['udp', 'tcp']).default('udp'),
    })
    .strict(),
  z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'export names are 1-64 characters: a-z, 0-9, ".", "_", "-"'),
      kind: z.literal('webhook'),
      url: z.url(),
      /** The HMAC-SHA256 key for `X-Portcullis-Signature`; at least 16 characters. */
      secret: z.string().min(16, 'the webhook secret must be at least 16 characters'),
    })
    .strict(),
]);

export type AuditExportConfig = z.infer<typeof auditExportSchema>;

/** The whole configuration; every key has a default so an empty file is a working setup. */
export const configSchema = z
  .object({
    listen: hostPort.default('127.0.0.1:5000'),
    dataDir: z.string().min(1).default('./data'),
    database: z
      .string()
      .refine(
        (v) => v === 'sqlite' || /^postgres(ql)?:\/\//.test(v),
        'expected "sqlite" or a postgres:// URL',
      )
      .default('sqlite'),
    blobs: z
      .object({
        driver: z.literal('filesystem').default('filesystem'),
        path: z.string().min(1).optional(),
      })
      .strict()
      .default({ driver: 'filesystem' }),
    auth: z
      .object({
        service: z.string().min(1).default('portcullis'),
        issuer: z.string().min(1).default('portcullis'),
        realm: z.url().optional(),
        tokenTtl: seconds.max(3600).default(300),
        refreshTokenTtl: seconds.default(30 * 24 * 3600),
        throttle: z
          .object({
            accountFailures: z.number().int().min(1).default(5),
            addressFailures: z.number().int().min(1).default(20),
            maxBackoffSeconds: seconds.default(900),
            windowSeconds: seconds.default(900),
          })
          .strict()
          .default({ accountFailures: 5, addressFailures: 20, maxBackoffSeconds: 900, windowSeconds: 900 }),
        oidc: oidcLoginSchema.optional(),
      })
      .strict()
      .default({
        service: 'portcullis',
        issuer: 'portcullis',
        tokenTtl: 300,
        refreshTokenTtl: 2592000,
        throttle: { accountFailures: 5, addressFailures: 20, maxBackoffSeconds: 900, windowSeconds: 900 },
      }),
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    trustedProxies: z.array(z.string().min(1)).default([]),
    /** The header the trusted proxies set: `X-Forwarded-For`, or RFC 7239 `Forwarded`; the other is ignored. */
    trustedProxyHeader: z.enum(['x-forwarded-for', 'forwarded']).default('x-forwarded-for'),
    federation: z
      .object({
        issuers: z
          .array(issuerSchema)
          .default([])
          .refine((list) => new Set(list.map((i) => i.alias)).size === list.length, 'issuer aliases must be unique')
          .refine((list) => new Set(list.map((i) => `${i.kind} ${i.issuer}`)).size === list.length, 'each issuer may be trusted under one alias only'),
        /** The least time between two fetches of an issuer's keys prompted by unknown key ids. */
        keyRefetchSeconds: z.number().int().min(1).max(3600).default(30),
      })
      .strict()
      .default({ issuers: [], keyRefetchSeconds: 30 }),
    uploads: z
      .object({ expireAfter: seconds.default(24 * 3600) })
      .strict()
      .default({ expireAfter: 86400 }),
    audit: z
      .object({
        export: z
          .array(auditExportSchema)
          .default([])
          .refine((list) => new Set(list.map((e) => e.name)).size === list.length, 'export names must be unique'),
        /** Events older than this many days are pruned (leaving signed summaries); absent keeps everything. */
        retentionDays: z.number().int().min(1).max(36500).optional(),
      })
      .strict()
      .default({ export: [] }),
    trust: z
      .object({
        /** Namespace trust policies kept in files; re-applied at every start, and not editable through the API. */
        policies: z
          .array(z.object({ namespace: z.string().min(1), file: z.string().min(1) }).strict())
          .default([])
          .refine((list) => new Set(list.map((p) => p.namespace)).size === list.length, 'each namespace may have one policy file'),
        /** How long a signature verdict is reused while nothing attached to the manifest changes. */
        verdictCacheSeconds: z.number().int().min(0).max(86400).default(600),
        secretScan: z
          .object({
            /** What a secret found on push does where a namespace's policy does not say. */
            mode: z.enum(['off', 'warn', 'quarantine', 'block']).default('warn'),
            /** Decompressed bytes read from one layer before the scan gives up (a decompression bomb). */
            maxLayerBytes: z.number().int().min(1024).default(4 * 1024 ** 3),
            /** Bytes of one file that are scanned; the rest is read past unscanned (by default, whole files). */
            maxFileBytes: z.number().int().min(1024).default(4 * 1024 ** 3),
            /** Tar entries read from one layer before the scan gives up. */
            maxEntries: z.number().int().min(1).default(500_000),
            /** Decompressed-to-compressed ratio past which a layer is taken for a bomb (gzip of zeros reaches about 1000). */
            maxRatio: z.number().min(2).default(1000),
            /** Worker threads that scan layers off the main thread; 0 scans on it (slows pushes while a scan runs). */
            workers: z.number().int().min(0).max(64).default(SCAN_WORKERS),
          })
          .strict()
          .default({ mode: 'warn', maxLayerBytes: 4 * 1024 ** 3, maxFileBytes: 4 * 1024 ** 3, maxEntries: 500_000, maxRatio: 1000, workers: SCAN_WORKERS }),
      })
      .strict()
      .default({
        policies: [],
        verdictCacheSeconds: 600,
        secretScan: { mode: 'warn', maxLayerBytes: 4 * 1024 ** 3, maxFileBytes: 4 * 1024 ** 3, maxEntries: 500_000, maxRatio: 1000, workers: SCAN_WORKERS },
      }),
    robots: z
      .object({ maxLifetimeDays: z.number().int().min(1).max(3650).default(90) })
      .strict()
      .default({ maxLifetimeDays: 90 }),
    catalog: z
      .object({ maxEntries: z.number().int().min(1).max(10000).default(1000) })
      .strict()
      .default({ maxEntries: 1000 }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
    metrics: z.object({ enabled: z.boolean().default(true) }).strict().default({ enabled: true }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

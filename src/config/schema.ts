import { z } from 'zod';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const hostPort = z.string().superRefine((value, ctx) => {
  const match = HOST_PORT.exec(value);
  if (!match) ctx.addIssue({ code: 'custom', message: 'expected HOST:PORT, e.g. 127.0.0.1:5000' });
  else if (Number(match[2]) > 65535) ctx.addIssue({ code: 'custom', message: 'port must be at most 65535' });
});

const seconds = z.number().int().positive();

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
    uploads: z
      .object({ expireAfter: seconds.default(24 * 3600) })
      .strict()
      .default({ expireAfter: 86400 }),
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

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { applyConfigPolicies } from './admin/index.js';
import { AuditExporter } from './audit/export/exporter.js';
import { AuditRecorder } from './audit/recorder.js';
import { pruneAudit } from './audit/retention.js';
import type { Config } from './config/schema.js';
import { buildServer } from './http/server.js';
import type { Services } from './http/services.js';
import { Authenticator } from './identity/authenticate.js';
import { bootstrapAdmin } from './identity/bootstrap.js';
import { Directory } from './identity/directory.js';
import { Federation } from './identity/federation/service.js';
import { ensureSigningKey, KeyRing, payloadSigner } from './identity/keys.js';
import { PeopleLogin } from './identity/people/login.js';
import { LoginThrottle } from './identity/throttle.js';
import { TOKEN_LEEWAY_SECONDS, TokenService } from './identity/tokens.js';
import { BlobService } from './registry/blobs.js';
import { ManifestService } from './registry/manifests.js';
import { UploadStateSigner } from './registry/upload-state.js';
import { UploadService } from './registry/uploads.js';
import { FilesystemBlobDriver } from './storage/blobs/filesystem.js';
import { openMetadataStore } from './storage/metadata/index.js';
import { openScanPool, scanLimits, TrustService, type ScanPool } from './trust/index.js';
import { verifiers } from './trust/verify/index.js';

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const BUNDLE_CHECK_MS = 60 * 1000;

export interface Running {
  app: FastifyInstance;
  /** The address actually bound (useful with port 0). */
  address: string;
  close(): Promise<void>;
}

/** The composition root: builds stores, services and the server, then listens. */
export async function startServer(config: Config, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openMetadataStore(config.database, config.dataDir);
  try {
    const driver = new FilesystemBlobDriver(config.blobs.path!);
    await driver.init();
    const boot = await bootstrapAdmin(store, config.dataDir, env.PORTCULLIS_ADMIN_PASSWORD);
    if (boot?.generatedPassword) {
      // Printed once, on the terminal only; the log line names the file, never the password.
      process.stderr.write(`\nportcullis: created user "admin" with password ${boot.generatedPassword}\n`);
      process.stderr.write(`portcullis: the password is also in ${boot.passwordFile} (mode 0600)\n\n`);
      logger.info({ file: boot.passwordFile }, 'created the first admin');
    }

    const policies = await applyConfigPolicies(store, config);
    if (policies.length > 0) logger.info({ namespaces: policies }, 'applied trust policies from the config file');
    const directory = new Directory(store);
    const federation = new Federation(store, directory, config.federation.issuers, { cooldownMs: config.federation.keyRefetchSeconds * 1000 });
    for (const alias of await federation.aliasesNamingUsers()) {
      logger.warn({ alias }, 'an issuer alias in the configuration is also a user name; that user cannot sign in with a password');
    }
    await ensureSigningKey(store.principals);
    const keys = new KeyRing(store, (config.auth.tokenTtl + TOKEN_LEEWAY_SECONDS) * 1000);
    const scanPool = scanPoolFor(config, logger);
    const services: Services = {
      config,
      store,
      driver,
      blobs: new BlobService(store.content, driver),
      uploads: new UploadService(
        store.content,
        driver,
        config.uploads.expireAfter * 1000,
        new UploadStateSigner(await store.keys.secret('upload-state')),
      ),
      manifests: new ManifestService(store.content),
      trust: new TrustService(store, driver, verifiers, config, (err, digest) => logger.warn({ err, digest }, 'secret scan of a blob failed'), scanPool),
      tokens: new TokenService(keys, {
        issuer: config.auth.issuer,
        service: config.auth.service,
        ttlSeconds: config.auth.tokenTtl,
      }),
      directory,
      authenticator: new Authenticator(store, directory),
      federation,
      throttle: new LoginThrottle(config.auth.throttle),
      audit: new AuditRecorder(store, hostname(), logger, payloadSigner(keys)),
    };
    if (config.auth.oidc) services.people = await PeopleLogin.create(store, config.auth.oidc, services.authenticator);
    const exporter = new AuditExporter(store, hostname(), logger, config.audit.export);
    exporter.start();
    const clientCas = config.tls ? await authorityPems(federation) : [];
    const app = buildServer(services, logger, clientCas);
    const sweep = async () => {
      await services.uploads.sweep().catch((err) => logger.warn({ err }, 'failed to sweep uploads'));
      await store.revocations.prune(Date.now()).catch((err) => logger.warn({ err }, 'failed to prune revocations'));
      if (config.audit.retentionDays !== undefined) {
        const before = Date.now() - config.audit.retentionDays * 86_400_000;
        await pruneAudit(store, before, payloadSigner(keys)).catch((err) => logger.warn({ err }, 'failed to prune the audit log'));
      }
    };
    await sweep();
    const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
    timer.unref();
    const bundles = clientCas.length > 0 ? setInterval(() => refreshClientCas(app, config, federation, logger), BUNDLE_CHECK_MS) : undefined;
    bundles?.unref();

    const { host, port } = splitListen(config.listen);
    const address = await app.listen({ host, port }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err;
      throw new Error(`${config.listen} is already in use; choose another address with --listen HOST:PORT or PORTCULLIS_LISTEN`);
    });
    logger.info({ address, database: store.engine }, 'listening');

    return {
      app,
      address,
      close: async () => {
        clearInterval(timer);
        clearInterval(bundles);
        await closeGracefully(app);
        await scanPool?.close();
        await services.audit.close();
        await exporter.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Worker threads for secret scans, unless `trust.secretScan.workers` is 0 or no compiled worker is found. */
function scanPoolFor(config: Config, logger: Logger): ScanPool | undefined {
  const scan = config.trust.secretScan;
  if (scan.workers === 0) return undefined;
  const options = { root: config.blobs.path!, limits: scanLimits(scan), size: scan.workers };

  return openScanPool(options, (looked) => logger.warn({ looked }, 'no compiled secret-scan worker found; layers are scanned on the main thread'));
}

async function authorityPems(federation: Federation): Promise<string[]> {
  return [...new Set((await federation.authorities()).map((c) => c.toString()))].sort();
}

/** Hands TLS the SPIFFE bundles' current CA certificates, so a rotated bundle applies within a minute. */
async function refreshClientCas(app: FastifyInstance, config: Config, federation: Federation, logger: Logger): Promise<void> {
  try {
    const ca = await authorityPems(federation);
    if (ca.length === 0) return;
    const server = app.server as unknown as import('node:tls').Server;
    server.setSecureContext({ cert: readFileSync(config.tls!.cert), key: readFileSync(config.tls!.key), ca });
  } catch (err) {
    logger.warn({ err }, 'failed to refresh the SPIFFE client certificate authorities');
  }
}

/** How long in-flight requests may run on after a shutdown begins. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * Stops accepting connections and waits for in-flight requests. A keep-alive connection that
 * turns idle after the shutdown began is closed as soon as it does (otherwise it would hold
 * the shutdown for the whole keep-alive timeout); past the grace period every connection goes.
 */
async function closeGracefully(app: FastifyInstance): Promise<void> {
  const idle = setInterval(() => app.server.closeIdleConnections(), 50);
  const force = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearInterval(idle);
    clearTimeout(force);
  }
}

export function splitListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');

  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) };
}

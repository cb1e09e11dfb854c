import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { AdminError } from '../admin/index.js';
import { errorEnvelope, isRegistryError, RegistryError, tokenErrorBody } from '../errors/registry-error.js';
import { FIELDS, loggableUrl } from '../log/fields.js';
import { registerAdmin } from './admin/routes.js';
import { registerAuditHooks } from './audit-hooks.js';
import { useForwardedHeader } from './forwarded.js';
import { registerHealth } from './health.js';
import { registerLogin } from './login.js';
import { createMetrics, routeLabel } from './metrics.js';
import { requestId } from './request-id.js';
import type { Services } from './services.js';
import { registerToken } from './token.js';
import { registerV2 } from './v2/dispatch.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields for the request's completion log line, set once the caller is known. */
    logFields: {
      repo?: string;
      user?: string;
      jti?: string;
      denied?: string;
      /** Which check refused a federated credential, and the issuer alias that checked it. */
      refused?: string;
      issuer?: string;
      refusedDetail?: string;
      /** A federated workload's subject at its issuer. */
      subject?: string;
      /** The error code of a refused or failed request. */
      error?: string;
      /** What the trust policy noted about an allowed request (an audit-mode refusal, a secret found). */
      trust?: string;
    } | null;
  }
}

/**
 * Builds the HTTP server: routes, the one error renderer, request logging and metrics. With TLS
 * and `clientCas` (SPIFFE trust bundles' CA certificates), clients may present X.509-SVIDs;
 * the certificate is optional, so password and token clients are unaffected.
 */
export function buildServer(services: Services, logger: Logger, clientCas: string[] = []): FastifyInstance {
  const { config } = services;
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    routerOptions: { maxParamLength: 2048 },
    exposeHeadRoutes: false,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    // Malformed URLs and the like are answered in our envelope, without echoing the input.
    frameworkErrors: (error, _request, reply) => {
      const body = errorEnvelope(new RegistryError('BAD_REQUEST', 'malformed request', { cause: error }));
      (reply as unknown as FastifyReply).code(400).header('Content-Type', 'application/json').send(JSON.stringify(body));
    },
    ...(config.tls ? { https: { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key), ...mutualTls(clientCas) } } : {}),
  }) as unknown as FastifyInstance;
  const metrics = config.metrics.enabled ? createMetrics(services.audit) : undefined;

  // Bodies stay raw streams: blob chunks are piped to storage, small bodies read by handlers.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.decorateRequest('logFields', null);
  registerAuditHooks(app, services.audit, (repository) => services.directory.auditFailClosed(repository));
  const forwarded = config.trustedProxies.length > 0 && config.trustedProxyHeader === 'forwarded';
  app.addHook('onRequest', async (request, reply) => {
    if (forwarded) useForwardedHeader(request.raw);
    reply.header('X-Request-Id', request.id);
    if (request.url.startsWith('/v2')) reply.header('Docker-Distribution-API-Version', 'registry/2.0');
  });
  app.addHook('onResponse', async (request, reply) => {
    const seconds = reply.elapsedTime / 1000;
    metrics?.observe(request.method, routeLabel(request.url), reply.statusCode, seconds);
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    request.log[level](
      {
        [FIELDS.method]: request.method,
        [FIELDS.url]: loggableUrl(request.url),
        [FIELDS.status]: reply.statusCode,
        [FIELDS.durationMs]: Math.round(reply.elapsedTime * 100) / 100,
        [FIELDS.remoteAddress]: request.ip,
        ...request.logFields,
      },
      'request completed',
    );
  });

  app.setErrorHandler((err: FastifyError | RegistryError, request, reply) => {
    const error = toRegistryError(err);
    request.logFields = { ...request.logFields, error: error.code };
    if (error.status >= 500) request.log.error({ err }, 'failed to handle request');
    reply.headers(error.headers);
    const envelope = request.url.startsWith('/token') ? tokenErrorBody(error) : errorEnvelope(error);
    if (error.status >= 500) (envelope.errors[0] as Record<string, unknown>).detail = { requestId: request.id };
    reply.code(error.status).header('Content-Type', 'application/json').send(JSON.stringify(envelope));
  });
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).header('Content-Type', 'application/json').send(JSON.stringify(errorEnvelope(new RegistryError('NOT_FOUND'))));
  });

  registerHealth(app, services, metrics?.registry);
  registerToken(app, services);
  registerAdmin(app, services);
  registerLogin(app, services);
  registerV2(app, services);

  return app;
}

const ADMIN_CODES = { invalid: 'BAD_REQUEST', missing: 'NOT_FOUND', conflict: 'CONFLICT' } as const;

/** Maps anything thrown to a catalogue error; unknown errors become a bare 500. */
function toRegistryError(err: unknown): RegistryError {
  if (isRegistryError(err)) return err;
  if (err instanceof AdminError) return new RegistryError(ADMIN_CODES[err.kind], err.message);
  const e = err as Partial<FastifyError> & NodeJS.ErrnoException;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') {
    return new RegistryError('UNAVAILABLE', 'storage is full', { cause: err });
  }
  if (e.code === 'ECONNRESET' || e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.message === 'aborted') {
    return new RegistryError('BLOB_UPLOAD_INVALID', 'request body was interrupted', { cause: err });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new RegistryError('BAD_REQUEST', 'malformed request', { cause: err });
  }

  return new RegistryError('UNKNOWN', 'internal error', { cause: err });
}

function mutualTls(clientCas: string[]) {
  return clientCas.length > 0 ? { requestCert: true, rejectUnauthorized: false, ca: clientCas } : {};
}

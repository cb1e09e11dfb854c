import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Services } from './services.js';

/** `/healthz` (the process answers), `/readyz` (stores reachable) and `/metrics`. */
export function registerHealth(app: FastifyInstance, services: Services, metrics: Registry | undefined): void {
  app.route({
    method: ['GET', 'HEAD'],
    url: '/healthz',
    handler: (_request, reply) => {
      reply.send({ status: 'ok' });
    },
  });

  app.route({ method: ['GET', 'HEAD'], url: '/readyz', handler: async (request, reply) => {
    const checks: Record<string, string> = {};
    for (const [name, check] of [
      ['metadata', () => services.store.ping()],
      ['blobs', () => services.driver.check()],
    ] as const) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (err) {
        request.log.warn({ err, check: name }, 'readiness check failed');
        checks[name] = 'failing';
      }
    }
    // Audit events that cannot be written make the node unready: its pulls would go unrecorded.
    checks.audit = services.audit.healthy() ? 'ok' : 'failing';
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  } });

  if (metrics) {
    app.get('/metrics', async (_request, reply) => {
      return reply.header('Content-Type', metrics.contentType).send(await metrics.metrics());
    });
  }
}

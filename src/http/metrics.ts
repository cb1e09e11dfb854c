import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditRecorder } from '../audit/recorder.js';

export interface HttpMetrics {
  registry: Registry;
  observe(method: string, route: string, status: number, seconds: number): void;
}

/** Prometheus metrics: request counts and durations by route (never by repository). */
export function createMetrics(audit?: AuditRecorder): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_' });
  if (audit) auditMetrics(registry, audit);
  const requests = new Counter({
    name: 'portcullis_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });

  return {
    registry,
    observe(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
  };
}

/** The audit recorder's state, read when metrics are scraped. */
function auditMetrics(registry: Registry, audit: AuditRecorder): void {
  const gauges: Array<[string, string, () => number]> = [
    ['portcullis_audit_pending_events', 'Audit events queued and not yet written', () => audit.pending()],
    ['portcullis_audit_healthy', '1 while audit events are being written, 0 while writes fail', () => (audit.healthy() ? 1 : 0)],
    ['portcullis_audit_written_events', 'Audit events written since start', () => audit.counts.written],
    ['portcullis_audit_dropped_events', 'Audit events dropped since start because writes failed for too long', () => audit.counts.dropped],
    ['portcullis_audit_write_failures', 'Failed audit writes since start', () => audit.counts.failures],
  ];
  for (const [name, help, read] of gauges) {
    new Gauge({ name, help, registers: [registry], collect() {
      this.set(read());
    } });
  }
}

/** The paths outside `/v2/` that get a label of their own. */
const FIXED_ROUTES: ReadonlySet<string> = new Set([
  '/token',
  '/token/jwks',
  '/healthz',
  '/readyz',
  '/metrics',
]);

/** A low-cardinality route label for a URL path. */
export function routeLabel(path: string): string {
  const bare = path.split('?')[0]!;
  // A client-chosen path must never become a label: every label set is kept for good.
  if (!bare.startsWith('/v2')) return FIXED_ROUTES.has(bare) ? bare : 'other';
  if (bare === '/v2/' || bare === '/v2') return '/v2/';
  if (bare === '/v2/_catalog') return '/v2/_catalog';
  const m = /\/(blobs\/uploads|blobs|manifests|tags\/list|referrers)(\/|$)/.exec(bare.slice(3));

  return m ? `/v2/:name/${m[1]}` : '/v2/other';
}

import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../../errors/registry-error.js';
import type { AuditFilter } from '../../storage/metadata/index.js';
import type { Services } from '../services.js';
import { jsonBody, text } from './caller.js';
import type { Answer, Route } from './routes.js';

const ok = (body: unknown): Answer => ({ status: 200, body });

/** The admin API's audit queries and incident response: `/audit/events`, `/audit/pulls`, `/incident/…`. */
export function registerAuditAdmin(route: Route, services: Services): void {
  for (const [path, actions] of [['/audit/events', undefined], ['/audit/pulls', ['manifest.pull', 'blob.pull']]] as const) {
    route('GET', path, async ({ request }) => {
      const { filter, after, limit } = auditQuery(request);
      const rows = await services.store.audit.query(actions ? { ...filter, actions: [...actions], outcome: 'allowed' } : filter, after, limit);
      return ok({ events: rows.map(({ prevHash: _p, hash: _h, ...row }) => row), next: rows.length === limit ? rows.at(-1)!.seq : null });
    });
  }
  route('POST', '/incident/credential', async ({ admin, caller, request }) => {
    const body = await jsonBody(request);
    const since = Date.parse(text(body, 'since', true) ?? new Date(Date.now() - 30 * 86_400_000).toISOString());
    if (Number.isNaN(since)) throw new RegistryError('BAD_REQUEST', '"since" must be an ISO 8601 time');
    return ok(await admin.incident.credential(text(body, 'credential'), since, `api:${caller.name}`));
  });
  route('GET', '/incident/digest/:digest', async ({ admin, params }) => ok({ pulls: await admin.incident.digest(params.digest!) }));
}

/** The audit filters of a query string: digest, credential, principal, repository, address, action, outcome, since, until, after, limit. */
function auditQuery(request: FastifyRequest): { filter: AuditFilter; after: number; limit: number } {
  const query = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '');
  const time = (key: string) => {
    const value = query.get(key);
    if (value === null) return undefined;
    const at = Date.parse(value);
    if (Number.isNaN(at)) throw new RegistryError('BAD_REQUEST', `"${key}" must be an ISO 8601 time`);
    return at;
  };
  const after = Number(query.get('after') ?? '0');
  const limit = Number(query.get('limit') ?? '100');
  if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
    throw new RegistryError('BAD_REQUEST', '"after" must be a sequence number and "limit" 1-10000');
  }
  const param = (key: string) => query.get(key) ?? undefined;
  const actions = query.getAll('action');

  return {
    filter: {
      digest: param('digest'),
      credential: param('credential'),
      principal: param('principal'),
      repository: param('repository'),
      address: param('address'),
      outcome: param('outcome'),
      ...(actions.length > 0 ? { actions } : {}),
      since: time('since'),
      until: time('until'),
    },
    after,
    limit,
  };
}

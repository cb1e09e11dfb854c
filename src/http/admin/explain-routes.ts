import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../../errors/registry-error.js';
import type { Answer, Route } from './routes.js';

const ok = (body: unknown): Answer => ({ status: 200, body });

/**
 * `GET /explain` (why a subject would be allowed or denied an action on a repository) and
 * `GET /who-can` (every holder that may take it). Read-only; bad input is a 400, an unknown
 * subject a 404, both from the admin's own validation.
 */
export function registerExplainAdmin(route: Route): void {
  route('GET', '/explain', async ({ admin, request }) => {
    const query = queryOf(request);
    const subject = required(query, 'subject');
    const repository = required(query, 'repository');
    const action = query.get('action') ?? 'pull';

    return ok(await admin.explain.explain({ subject, repository, action, address: query.get('address') ?? undefined }));
  });
  route('GET', '/who-can', async ({ admin, request }) => {
    const query = queryOf(request);
    const repository = required(query, 'repository');
    const action = query.get('action') ?? 'pull';

    return ok({ repository, action, principals: await admin.explain.whoCan({ repository, action }) });
  });
}

export function queryOf(request: FastifyRequest): URLSearchParams {
  return new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '');
}

export function required(query: URLSearchParams, key: string): string {
  const value = query.get(key);
  if (!value) throw new RegistryError('BAD_REQUEST', `give ${key} as a query parameter`);

  return value;
}

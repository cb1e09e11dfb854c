import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../errors/registry-error.js';
import { isRepositoryName } from '../../oci/names.js';
import { callerFacts } from '../audit-hooks.js';
import { CATALOG_SCOPE, authenticate, authorize, authorizeCatalog } from '../caller.js';
import type { Services } from '../services.js';
import { getCatalog } from './listing.js';
import { matchRoute } from './routes.js';

/**
 * Mounts `/v2/`: every request is authenticated first (no anonymous access), then matched
 * against the route table, authorised for the route's actions and handed to its handler.
 */
export function registerV2(app: FastifyInstance, services: Services): void {
  // Returning the reply tells Fastify the handler sent it, streams included.
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    await dispatch(request, reply, services);
    return reply;
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2', handler: handle });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2/*', handler: handle });
}

async function dispatch(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<void> {
  const url = request.raw.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = (queryAt === -1 ? url : url.slice(0, queryAt)).replace(/^\/v2\/?/, '');
  const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));

  if (path === '') {
    // end-1: the version check; it only needs a valid token.
    await authenticate(request, services, []);
    reply.code(200).header('Content-Type', 'application/json').send('{}');
    return;
  }
  if (path === '_catalog') {
    const caller = await authenticate(request, services, [CATALOG_SCOPE]);
    request.audit = callerFacts(caller);
    if (request.method !== 'GET') throw new RegistryError('UNSUPPORTED');
    authorizeCatalog(request, services, caller);
    await getCatalog(services, caller, query, reply);
    return;
  }

  const match = matchRoute(request.method, path);
  const route = match?.route ?? match?.candidates[0];
  const nameOk = match !== undefined && isRepositoryName(match.name);
  const scopes = nameOk && route ? [{ type: 'repository', name: match.name, actions: [...route.actions] }] : [];
  const caller = await authenticate(request, services, scopes);
  if (!match) throw new RegistryError('NOT_FOUND', 'no such endpoint');
  if (!nameOk) throw new RegistryError('NAME_INVALID', 'invalid repository name');
  if (!match.route) throw new RegistryError('UNSUPPORTED', `${request.method} is not supported here`);

  request.logFields = { ...request.logFields, repo: match.name, user: caller.name, jti: caller.claims.jti };
  request.audit = {
    ...callerFacts(caller),
    repository: match.name,
    reference: match.param || undefined,
    resource: match.route.resource,
    mount: query.has('mount'),
  };
  await authorize(request, services, caller, match.name, match.route.actions);
  await match.route.handler({ request, reply, services, caller, name: match.name, param: match.param, query });
}

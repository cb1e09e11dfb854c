import type { FastifyRequest } from 'fastify';
import { jsonBody, text } from './caller.js';
import { queryOf, required } from './explain-routes.js';
import type { Answer, Route } from './routes.js';

const ok = (body: unknown): Answer => ({ status: 200, body });
const done: Answer = { status: 204 };

/**
 * Trust administration: namespace policies, a manifest's verdict, quarantine, tag history and
 * overrides, secret-scan findings and their exposure. Namespaces and repositories contain
 * slashes, so they travel as query parameters.
 */
export function registerTrustAdmin(route: Route): void {
  route('GET', '/trust/policies', async ({ admin }) => ok({ policies: await admin.trust.policies() }));
  route('GET', '/trust/policy', async ({ admin, request }) => ok(await admin.trust.policy(required(queryOf(request), 'namespace'))));
  route('PUT', '/trust/policy', async ({ admin, request, caller }) => {
    const namespace = required(queryOf(request), 'namespace');

    return ok(await admin.trust.setPolicy(namespace, await jsonBody(request), `api:${caller.name}`));
  });
  route('DELETE', '/trust/policy', async ({ admin, request }) => (await admin.trust.removePolicy(required(queryOf(request), 'namespace')), done));
  route('GET', '/trust/check', async ({ admin, request }) => {
    const query = queryOf(request);

    return ok(await admin.trust.check(required(query, 'repository'), required(query, 'reference')));
  });

  route('GET', '/quarantine', async ({ admin }) => ok({ quarantined: await admin.trust.quarantined() }));
  route('POST', '/quarantine', async ({ admin, request, caller }) => {
    const body = await jsonBody(request);
    const [digest, reason] = [text(body, 'digest'), text(body, 'reason')];
    noted(request, digest, `quarantine: ${reason}`);
    await admin.trust.quarantine(digest, reason, `api:${caller.name}`);

    return { status: 201 };
  });
  route('DELETE', '/quarantine/:digest', async ({ admin, params, request }) => {
    const released = await admin.trust.release(params.digest!);
    noted(request, released.digest, `release (was quarantined by ${released.actor}: ${released.reason})`);

    return ok({ released });
  });

  route('GET', '/tags/history', async ({ admin, request }) => {
    const query = queryOf(request);

    return ok({ history: await admin.trust.tagHistory(required(query, 'repository'), query.get('tag') ?? undefined) });
  });
  route('POST', '/tags/override', async ({ admin, request, caller }) => {
    const body = await jsonBody(request);

    return ok(await admin.trust.overrideTag(text(body, 'repository'), text(body, 'tag'), text(body, 'digest'), text(body, 'reason'), `api:${caller.name}`));
  });

  route('GET', '/scan/findings', async ({ admin, request }) => ok({ blobs: await admin.trust.findings(queryOf(request).get('digest') ?? undefined) }));
  route('GET', '/scan/exposure', async ({ admin, request }) => ok({ blobs: await admin.trust.exposure(queryOf(request).get('digest') ?? undefined) }));
}

/** Puts the digest and what was done to it in the request's audit record and log line. */
function noted(request: FastifyRequest, digest: string, what: string): void {
  if (request.audit) request.audit.digest = digest.slice(0, 200);
  request.logFields = { ...request.logFields, trust: what.slice(0, 600) };
}

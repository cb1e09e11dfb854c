import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Admin, duration, type AllowlistKind } from '../../admin/index.js';
import type { Conditions } from '../../storage/metadata/index.js';
import { registerAuditAdmin } from './audit-routes.js';
import { registerExplainAdmin } from './explain-routes.js';
import { registerTrustAdmin } from './trust-routes.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../caller.js';
import type { Services } from '../services.js';
import { adminCaller, cidrList, jsonBody, text, withIsoTimes } from './caller.js';

export interface Context {
  request: FastifyRequest;
  caller: Caller;
  params: Record<string, string>;
  admin: Admin;
}

export type Answer = { status: number; body?: unknown };
type Handler = (context: Context) => Promise<Answer>;
/** Adds one admin API endpoint under `/admin/v1`. */
export type Route = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, handler: Handler) => void;

const ok = (body: unknown): Answer => ({ status: 200, body });
const created = (body: unknown): Answer => ({ status: 201, body });
const done: Answer = { status: 204 };

/**
 * The admin API under `/admin/v1`: JSON over the same operations as the CLI (README: "Admin
 * API"). Every request needs a registry token with `registry:admin:*` whose subject holds the
 * admin role on `*` at the time of the request.
 */
export function registerAdmin(app: FastifyInstance, services: Services): void {
  const admin = new Admin(services.store, services.config, services.trust);
  const route: Route = (method, path, handler) => {
    app.route({
      method,
      url: `/admin/v1${path}`,
      handler: async (request, reply) => {
        const caller = await adminCaller(request, services);
        const answer = await handler({ request, caller, params: request.params as Record<string, string>, admin });
        reply.header('Cache-Control', 'no-store').code(answer.status);
        if (answer.body === undefined) return reply.send();
        return reply.header('Content-Type', 'application/json').send(withIsoTimes(answer.body));
      },
    });
  };

  route('GET', '/users', async ({ admin }) => ok({ users: await admin.people.users() }));
  route('POST', '/users', async ({ admin, request }) => {
    const body = await jsonBody(request);
    const name = text(body, 'name');
    const { generated } = await admin.people.addUser(name, text(body, 'password', true));
    return created({ name, ...(generated ? { password: generated } : {}) });
  });
  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    route('POST', `/users/:name/${verb}`, async ({ admin, params }) => (await admin.people.setUserDisabled(params.name!, disabled), done));
    route('POST', `/robots/:name/${verb}`, async ({ admin, params }) => (await admin.credentials.setRobotDisabled(params.name!, disabled), done));
    route('POST', `/federation/rules/:name/${verb}`, async ({ admin, params }) => (await admin.federation.setRuleDisabled(params.name!, disabled), done));
  }
  route('PUT', '/users/:name/password', async ({ admin, params, request }) => {
    const { generated } = await admin.people.setPassword(params.name!, text(await jsonBody(request), 'password', true));
    return generated ? ok({ password: generated }) : done;
  });
  route('PUT', '/users/:name/environments', async ({ admin, params, request }) => {
    const mixed = (await jsonBody(request)).mixed;
    if (typeof mixed !== 'boolean') throw new RegistryError('BAD_REQUEST', '"mixed" must be true or false');
    await admin.people.setMixedEnvironments(params.name!, mixed);
    return done;
  });

  route('GET', '/namespaces', async ({ admin }) => ok({ namespaces: await admin.people.namespaces() }));
  route('POST', '/namespaces', async ({ admin, request }) => {
    const body = await jsonBody(request);
    const name = text(body, 'name');
    const isNew = await admin.people.addNamespace(name, text(body, 'environment', true) ?? null);
    return isNew ? created({ name }) : ok({ name, existed: true });
  });
  route('PUT', '/namespaces/:name/audit', async ({ admin, params, request }) => {
    const failClosed = (await jsonBody(request)).failClosed;
    if (typeof failClosed !== 'boolean') throw new RegistryError('BAD_REQUEST', '"failClosed" must be true or false');
    await admin.people.setAuditFailClosed(params.name!, failClosed);
    return done;
  });
  const allowlists: Array<[string, AllowlistKind]> = [['/namespaces', 'namespace'], ['/users', 'user'], ['/robots', 'robot'], ['/federation/rules', 'rule']];
  for (const [base, kind] of allowlists) {
    route('PUT', `${base}/:name/networks`, async ({ admin, params, request }) => {
      await admin.people.setAllowlist(kind, params.name!, cidrList(await jsonBody(request)));
      return done;
    });
  }

  route('GET', '/bindings', async ({ admin }) => ok({ bindings: await admin.people.bindings() }));
  route('GET', '/groups', async ({ admin }) => ok({ bindings: await admin.people.groupBindings() }));
  // A user's bindings at /bindings, a provider group's at /groups: granted by POST, removed by DELETE.
  for (const [path, holder] of [['/bindings', 'user'], ['/groups', 'group']] as const) {
    route('POST', path, async ({ admin, request }) => {
      const body = await jsonBody(request);
      const args = [text(body, 'role'), text(body, holder), text(body, 'namespace')] as const;
      await (holder === 'user' ? admin.people.grant(...args) : admin.people.grantGroup(...args));
      return done;
    });
    route('DELETE', path, async ({ admin, request }) => {
      const query = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '');
      const [role, name, namespace] = ['role', holder, 'namespace'].map((k) => query.get(k));
      if (!role || !name || !namespace) throw new RegistryError('BAD_REQUEST', `give role, ${holder} and namespace as query parameters`);
      await (holder === 'user' ? admin.people.revoke(role, name, namespace) : admin.people.revokeGroup(role, name, namespace));
      return done;
    });
  }

  route('GET', '/robots', async ({ admin }) => ok({ robots: await admin.credentials.robots() }));
  route('POST', '/robots', async ({ admin, request }) => {
    const body = await jsonBody(request);
    const lifetimeMs = duration(text(body, 'expiresIn', true) ?? '90d', 'expiresIn');
    const result = await admin.credentials.addRobot({ name: text(body, 'name'), namespace: text(body, 'namespace'), role: text(body, 'role', true) ?? 'reader', lifetimeMs });
    return created(result);
  });
  route('POST', '/robots/:name/rotate', async ({ admin, params, request }) => {
    const overlap = duration(text(await jsonBody(request), 'overlap', true) ?? '1h', 'overlap');
    return ok(await admin.credentials.rotateRobot(params.name!, overlap));
  });
  route('DELETE', '/robots/:name', async ({ admin, params }) => (await admin.credentials.removeRobot(params.name!), done));

  route('GET', '/federation/issuers', async ({ admin }) => ok({ issuers: await admin.federation.issuers() }));
  route('POST', '/federation/issuers', async ({ admin, request }) => created(await admin.federation.addIssuer(await jsonBody(request))));
  route('DELETE', '/federation/issuers/:alias', async ({ admin, params }) => (await admin.federation.removeIssuer(params.alias!), done));
  route('GET', '/federation/rules', async ({ admin }) => ok({ rules: await admin.federation.rules() }));
  route('POST', '/federation/rules', async ({ admin, request }) => {
    const body = await jsonBody(request);
    const grants = body.grants;
    if (!Array.isArray(grants) || grants.some((g) => typeof g?.namespace !== 'string' || typeof g?.role !== 'string')) {
      throw new RegistryError('BAD_REQUEST', '"grants" must be a list of {namespace, role}');
    }
    const conditions = body.conditions;
    if (conditions === null || typeof conditions !== 'object' || Array.isArray(conditions)) {
      throw new RegistryError('BAD_REQUEST', '"conditions" must be an object of claim → value or list of values');
    }
    const name = await admin.federation.addRule({
      name: text(body, 'name'),
      issuer: text(body, 'issuer'),
      conditions: conditions as Conditions,
      grants: grants as Array<{ namespace: string; role: string }>,
      mixedEnvironments: body.mixedEnvironments === true,
    });
    return created({ name });
  });
  route('DELETE', '/federation/rules/:name', async ({ admin, params }) => (await admin.federation.removeRule(params.name!), done));

  route('POST', '/revocations', async ({ admin, caller, request }) => {
    const body = await jsonBody(request);
    const before = text(body, 'before', true);
    const beforeMs = before === undefined ? undefined : Date.parse(before);
    if (Number.isNaN(beforeMs)) throw new RegistryError('BAD_REQUEST', '"before" must be an ISO 8601 time');
    const result = await admin.credentials.revoke({
      jti: text(body, 'jti', true),
      user: text(body, 'user', true),
      robot: text(body, 'robot', true),
      rule: text(body, 'rule', true),
      all: body.all === true,
      before: beforeMs,
      reason: text(body, 'reason', true),
      actor: `api:${caller.name}`,
    });
    return created(result);
  });
  route('GET', '/credentials/report', async ({ admin, request }) => {
    const days = Number(new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '').get('unusedDays') ?? '30');
    if (!Number.isInteger(days) || days < 1) throw new RegistryError('BAD_REQUEST', '"unusedDays" must be a whole number of days');
    return ok({ credentials: await admin.hygiene.report(days) });
  });
  registerAuditAdmin(route, services);
  registerTrustAdmin(route);
  registerExplainAdmin(route);
  route('GET', '/keys', async ({ admin }) => ok({ keys: await admin.credentials.keys() }));
  route('POST', '/keys/rotate', async ({ admin }) => created(await admin.credentials.rotateKeys()));
}


import type { FastifyRequest } from 'fastify';
import { covers, decide, type ResourceScope } from '../../access/decide.js';
import { RegistryError } from '../../errors/registry-error.js';
import { authenticate, challenge, type Caller } from '../caller.js';
import type { Services } from '../services.js';
import { callerFacts } from '../audit-hooks.js';
import { readBody } from '../v2/context.js';

/** The scope a token needs for the admin API. */
export const ADMIN_SCOPE: ResourceScope = { type: 'registry', name: 'admin', actions: ['*'] };

const BODY_LIMIT = 64 * 1024;

/**
 * The caller of an admin API request: a valid registry token that carries `registry:admin:*`,
 * whose subject still holds the admin role on `*` now. Without a token the answer is a 401
 * challenge for that scope; with a token but without the role, 403 `DENIED`.
 */
export async function adminCaller(request: FastifyRequest, services: Services): Promise<Caller> {
  const caller = await authenticate(request, services, [ADMIN_SCOPE]);
  const carried = caller.claims.access.filter((a) => a.type === ADMIN_SCOPE.type && a.name === ADMIN_SCOPE.name).flatMap((a) => a.actions);
  if (!covers(carried, ['*'])) throw challenge(request, services, [ADMIN_SCOPE], 'insufficient_scope');
  if (!decide(caller.subject, ADMIN_SCOPE).granted.includes('*')) throw new RegistryError('DENIED');
  request.logFields = { ...request.logFields, user: caller.name, jti: caller.claims.jti };
  request.audit = callerFacts(caller);

  return caller;
}

/** The request's JSON object body; `{}` when there is none. */
export async function jsonBody(request: FastifyRequest): Promise<Record<string, unknown>> {
  const body = await readBody(request, BODY_LIMIT, new RegistryError('BAD_REQUEST', 'the body is larger than 64 KiB'));
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RegistryError('BAD_REQUEST', 'the body must be a JSON object');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RegistryError('BAD_REQUEST', 'the body must be a JSON object');

  return value as Record<string, unknown>;
}

/** A string field of a body, required unless `optional`. */
export function text(body: Record<string, unknown>, field: string, optional: true): string | undefined;
export function text(body: Record<string, unknown>, field: string, optional?: false): string;
export function text(body: Record<string, unknown>, field: string, optional = false): string | undefined {
  const value = body[field];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string') throw new RegistryError('BAD_REQUEST', `"${field}" must be a string`);

  return value;
}

/** A list of strings, or null, for allowlists. */
export function cidrList(body: Record<string, unknown>): string[] | null {
  const value = body.cidrs;
  if (value === null) return null;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new RegistryError('BAD_REQUEST', '"cidrs" must be a list of CIDRs, or null for anywhere');
  }

  return value as string[];
}

/** Times as ISO 8601 strings: every numeric field named `at` or `before`, or ending in `At` or `Until`. */
export function withIsoTimes(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (typeof v === 'number' && /(At|Until|^before|^at)$/.test(key) ? new Date(v).toISOString() : v));
}

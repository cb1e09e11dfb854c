import type { FastifyRequest } from 'fastify';
import { covers, decide, type ResourceScope, type Subject } from '../access/decide.js';
import { addressRefusal } from '../access/network.js';
import { inNamespace } from '../oci/names.js';
import type { Action } from '../access/roles.js';
import { RegistryError } from '../errors/registry-error.js';
import { AuthChallenge, type ChallengeError } from '../identity/challenge.js';
import type { TokenClaims } from '../identity/tokens.js';
import type { Services } from './services.js';

/** The authenticated caller of a `/v2/` request. */
export interface Caller {
  principal: string;
  name: string;
  claims: TokenClaims;
  /** The client address: the peer's, or the forwarded one when the peer is a trusted proxy. */
  address: string;
  /** The subject as of this request: enabled, with its current bindings. */
  subject: Subject;
}

const PLAIN_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * The token endpoint's address as this request sees the registry: `auth.realm` when set,
 * otherwise built from the Host header when it is a plain host[:port], else from the address
 * the connection arrived on.
 */
export function realmOf(request: FastifyRequest, services: Services): string {
  if (services.config.auth.realm) return services.config.auth.realm;
  let host = request.host;
  if (!PLAIN_HOST.test(host)) {
    const { localAddress = '127.0.0.1', localPort } = request.socket;
    host = `${localAddress.includes(':') ? `[${localAddress}]` : localAddress}:${localPort}`;
  }

  return `${request.protocol}://${host}/token`;
}

export function challenge(request: FastifyRequest, services: Services, scopes: ResourceScope[], error?: ChallengeError) {
  return new AuthChallenge(realmOf(request, services), services.config.auth.service, scopes, error);
}

/**
 * Verifies the bearer token and re-checks that its subject still exists and is enabled.
 * Anything else is a 401 with a challenge for `scopes`.
 */
export async function authenticate(request: FastifyRequest, services: Services, scopes: ResourceScope[]): Promise<Caller> {
  const header = request.headers.authorization;
  if (!header || !/^bearer /i.test(header)) throw challenge(request, services, scopes);
  const claims = await services.tokens.verify(header.slice(7).trim());
  if (!claims) throw challenge(request, services, scopes, 'invalid_token');
  const { subject, revoked } = await services.directory.holder(claims);
  if (!subject.enabled || revoked) throw challenge(request, services, scopes, 'invalid_token');
  const refusal = addressRefusal(request.ip, subject.allowedCidrs ?? null, [], () => false);
  if (refusal) throw deny(request, refusal);

  return { principal: claims.sub, name: claims.name, claims, subject, address: request.ip };
}

/**
 * Checks that the caller may take `actions` on `repository`: the token must carry them and the
 * caller's current bindings must still grant them. The answer never depends on whether the
 * repository exists.
 */
export async function authorize(
  request: FastifyRequest,
  services: Services,
  caller: Caller,
  repository: string,
  actions: readonly Action[],
): Promise<void> {
  const scope = { type: 'repository', name: repository, actions: [...actions] };
  if (!tokenCovers(caller.claims, scope.type, repository, actions)) {
    throw challenge(request, services, [scope], 'insufficient_scope');
  }
  if (!covers(decide(caller.subject, scope).granted, actions)) throw new RegistryError('DENIED');
  const refusal = networkRefusal(caller, repository);
  if (refusal) throw deny(request, refusal);
}

/** Why the caller's address may not reach `repository` under namespace rules, if it may not. */
function networkRefusal(caller: Caller, repository: string): string | undefined {
  const rules = caller.subject.namespaceRules ?? [];
  if (rules.length === 0) return undefined;

  return addressRefusal(caller.address, null, rules, (namespace) => inNamespace(repository, namespace));
}

/**
 * A `DENIED` whose reason goes to the request's log line. The client learns only that the
 * network is not allowed, not which rule said so.
 */
export function deny(request: FastifyRequest, reason: string): RegistryError {
  request.logFields = { ...request.logFields, denied: reason };

  return new RegistryError('DENIED', 'requested access to the resource is denied from this network');
}

/** The scope `GET /v2/_catalog` needs (PROTOCOLS.md §1.10). */
export const CATALOG_SCOPE: ResourceScope = {
  type: 'registry',
  name: 'catalog',
  actions: ['*'],
};

/**
 * Checks that the token carries `registry:catalog:*`, so that a token narrowed to some
 * repositories cannot list every repository its user may read. The listing itself is then
 * filtered by the caller's current bindings.
 */
export function authorizeCatalog(
  request: FastifyRequest,
  services: Services,
  caller: Caller,
): void {
  if (!tokenCovers(caller.claims, CATALOG_SCOPE.type, CATALOG_SCOPE.name, ['*'])) {
    throw challenge(request, services, [CATALOG_SCOPE], 'insufficient_scope');
  }
}

/** True when both the token and the caller's current bindings allow pulling `repository`. */
export function mayPull(caller: Caller, repository: string): boolean {
  return (
    tokenCovers(caller.claims, 'repository', repository, ['pull']) &&
    bindingsAllowPull(caller, repository)
  );
}

/**
 * True when the caller's current bindings let it pull `repository` from its address (the token
 * is not asked).
 */
export function bindingsAllowPull(caller: Caller, repository: string): boolean {
  const granted = decide(caller.subject, { type: 'repository', name: repository, actions: ['pull'] }).granted;

  return granted.includes('pull') && networkRefusal(caller, repository) === undefined;
}

function tokenCovers(
  claims: TokenClaims,
  type: string,
  name: string,
  actions: readonly Action[],
): boolean {
  const granted = claims.access
    .filter((a) => a.type === type && a.name === name)
    .flatMap((a) => a.actions);

  return covers(granted, actions);
}

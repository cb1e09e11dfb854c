import type { FastifyRequest } from 'fastify';
import { covers, decide, type ResourceScope } from '../access/decide.js';
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
}

/** The token endpoint's address as this request sees the registry. */
export function realmOf(request: FastifyRequest, services: Services): string {
  return services.config.auth.realm ?? `${request.protocol}://${request.host}/token`;
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
  const subject = await services.directory.subject(claims.sub);
  if (!subject.enabled) throw challenge(request, services, scopes, 'invalid_token');

  return { principal: claims.sub, name: claims.name, claims };
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
  if (!tokenCovers(caller.claims, repository, actions)) throw challenge(request, services, [scope], 'insufficient_scope');
  const live = decide(await services.directory.subject(caller.principal), scope);
  if (!covers(live.granted, actions)) throw new RegistryError('DENIED');
}

/** True when the caller may pull `repository` right now (token and current bindings). */
export async function mayPull(services: Services, caller: Caller, repository: string): Promise<boolean> {
  if (!tokenCovers(caller.claims, repository, ['pull'])) return false;
  const live = decide(await services.directory.subject(caller.principal), {
    type: 'repository',
    name: repository,
    actions: ['pull'],
  });

  return live.granted.includes('pull');
}

/** True when the caller's current bindings let it pull `repository` (the token is not asked). */
export async function bindingsAllowPull(services: Services, caller: Caller, repository: string): Promise<boolean> {
  const subject = await services.directory.subject(caller.principal);

  return decide(subject, { type: 'repository', name: repository, actions: ['pull'] }).granted.includes('pull');
}

function tokenCovers(claims: TokenClaims, repository: string, actions: readonly Action[]): boolean {
  const granted = claims.access
    .filter((a) => a.type === 'repository' && a.name === repository)
    .flatMap((a) => a.actions);

  return covers(granted, actions);
}

import { formatScopes } from '../access/scope.js';
import type { ResourceScope } from '../access/decide.js';
import { RegistryError } from '../errors/registry-error.js';

export type ChallengeError = 'invalid_token' | 'insufficient_scope';

/** Quotes a value for an auth-param (RFC 9110 quoted-string). */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * The 401 answer of the token protocol: an `UNAUTHORIZED` error that carries its own Bearer
 * challenge naming the realm, the service and every scope the request needs, plus the RFC 6750
 * error when a token was presented but is invalid or too narrow (PROTOCOLS.md §2.2).
 */
export class AuthChallenge extends RegistryError {
  constructor(realm: string, service: string, scopes: readonly ResourceScope[], error?: ChallengeError) {
    const params = [`realm=${quote(realm)}`, `service=${quote(service)}`];
    if (scopes.length > 0) params.push(`scope=${quote(formatScopes(scopes))}`);
    if (error) params.push(`error=${quote(error)}`);
    const detail = scopes.flatMap((s) => s.actions.map((a) => ({ Type: s.type, Name: s.name, Action: a })));
    super('UNAUTHORIZED', error === 'insufficient_scope' ? 'insufficient scope' : 'authentication required', {
      detail: detail.length > 0 ? detail : undefined,
      headers: { 'WWW-Authenticate': `Bearer ${params.join(',')}` },
    });
  }
}

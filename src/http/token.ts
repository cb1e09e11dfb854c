import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decide, type ResourceScope } from '../access/decide.js';
import { addressRefusal } from '../access/network.js';
import { formatScopes, parseScopes } from '../access/scope.js';
import { isRegistryError, RegistryError } from '../errors/registry-error.js';
import type { Authenticated } from '../identity/authenticate.js';
import { deny } from './caller.js';
import type { Services } from './services.js';
import { federatedSignIn, signIn, tokenCaller, unauthorized } from './token-credentials.js';
import { readBody } from './v2/context.js';

const FORM_LIMIT = 64 * 1024;
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN = 'urn:ietf:params:oauth:token-type:jwt';
const EXCHANGEABLE = new Set([JWT_TOKEN, 'urn:ietf:params:oauth:token-type:id_token']);

/**
 * The token endpoint (PROTOCOLS.md §2.3–2.4, §4.6): GET with Basic or bearer credentials (or an
 * mTLS client certificate), and the OAuth2 POST form with the `password`, `refresh_token` and
 * RFC 8693 token-exchange grants. A token carries only the requested actions that the caller's
 * bindings grant; asking for more is not an error.
 */
export function registerToken(app: FastifyInstance, services: Services): void {
  app.get('/token', async (request, reply) => {
    await tokenGet(request, reply, services);
    return reply;
  });
  app.post('/token', async (request, reply) => {
    await tokenPost(request, reply, services);
    return reply;
  });
  app.get('/token/jwks', async (_request, reply) => {
    return reply.header('Cache-Control', 'max-age=60').send(await services.tokens.publicKeys());
  });
}

async function tokenGet(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<void> {
  const query = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '');
  checkService(query.get('service'), services);
  const who = await tokenCaller(request, services);
  const scopes = parseScopes(query.getAll('scope'));
  const offline = query.get('offline_token') === 'true';
  await respond(request, reply, services, who, scopes, { offline, oauth: false });
}

async function tokenPost(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<void> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== '' && type !== 'application/x-www-form-urlencoded') {
    throw new RegistryError('BAD_REQUEST', 'the body must be a form (application/x-www-form-urlencoded)');
  }
  const body = await readBody(request, FORM_LIMIT, new RegistryError('BAD_REQUEST', 'form body too large'));
  const form = new URLSearchParams(body.toString('utf8'));
  checkService(form.get('service'), services);
  const grant = form.get('grant_type');
  let who: Authenticated | undefined;
  let offline = form.get('access_type') === 'offline';
  if (grant === 'password') {
    const name = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    who = (await services.federation.isIssuerAlias(name))
      ? await federatedSignIn(request, services, password, name)
      : await signIn(request, services, name, password);
  } else if (grant === 'refresh_token') {
    who = await services.authenticator.refreshToken(form.get('refresh_token') ?? '');
    offline = false;
  } else if (grant === TOKEN_EXCHANGE) {
    who = await exchange(request, services, form);
    offline = false;
  } else {
    throw new RegistryError('BAD_REQUEST', `grant_type must be password, refresh_token or ${TOKEN_EXCHANGE}`);
  }
  if (!who) throw unauthorized();
  const exchanged = grant === TOKEN_EXCHANGE;
  await respond(request, reply, services, who, parseScopes([form.get('scope') ?? '']), { offline, oauth: true, exchanged });
}

/**
 * RFC 8693 token exchange: a JWT from a trusted issuer (`subject_token`) for a registry access
 * token. Request errors are `invalid_request`; an audience other than this registry's service
 * is `invalid_target`.
 */
async function exchange(request: FastifyRequest, services: Services, form: URLSearchParams): Promise<Authenticated> {
  const subjectToken = form.get('subject_token');
  const type = form.get('subject_token_type');
  if (!subjectToken || !type) throw oauthError('invalid_request', 'subject_token and subject_token_type are required');
  if (!EXCHANGEABLE.has(type)) throw oauthError('invalid_request', 'subject_token_type must be a JWT or an ID token');
  if (form.has('actor_token')) throw oauthError('invalid_request', 'actor tokens (delegation) are not accepted');
  const requested = form.get('requested_token_type');
  if (requested !== null && requested !== ACCESS_TOKEN && requested !== JWT_TOKEN) {
    throw oauthError('invalid_request', 'this registry issues access tokens only');
  }
  if (form.getAll('audience').some((a) => a !== services.config.auth.service)) {
    throw oauthError('invalid_target', `the audience must be this registry's service, ${services.config.auth.service}`);
  }
  try {
    return await federatedSignIn(request, services, subjectToken);
  } catch (err) {
    if (isRegistryError(err, 'UNAUTHORIZED')) throw oauthError('invalid_request', err.message);
    throw err;
  }
}

interface Shape {
  offline: boolean;
  /** The OAuth2 POST form: the answer names the granted scope. */
  oauth: boolean;
  /** RFC 8693: the answer also names the issued token's type. */
  exchanged?: boolean;
}

async function respond(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  who: Authenticated,
  requested: ResourceScope[],
  shape: Shape,
): Promise<void> {
  request.logFields = { ...request.logFields, user: who.name, ...(who.federated ? { subject: who.federated.subject } : {}) };
  request.audit = { principal: who.principal, credential: who.name, federated: who.federated };
  const subject = await services.directory.subject(who.principal);
  const refusal = addressRefusal(request.ip, subject.allowedCidrs ?? null, [], () => false);
  if (refusal) throw deny(request, refusal);
  const access = requested
    .map((scope) => ({ ...scope, actions: decide(subject, scope).granted }))
    .filter((scope) => scope.actions.length > 0);
  const issued = await services.tokens.issue(who, access);
  const body: Record<string, unknown> = {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt.toISOString(),
  };
  if (shape.oauth) body.scope = formatScopes(access);
  if (shape.exchanged) {
    body.issued_token_type = ACCESS_TOKEN;
    body.token_type = 'Bearer';
  }
  // Robots and workloads hold a credential already; refresh tokens are for people's clients.
  if (shape.offline && who.userId) body.refresh_token = await services.authenticator.issueRefreshToken(who, services.config.auth.refreshTokenTtl);
  reply.header('Cache-Control', 'no-store').code(200).send(body);
}

function checkService(service: string | null, services: Services): void {
  if (service !== null && service !== services.config.auth.service) {
    throw new RegistryError('BAD_REQUEST', 'unknown service');
  }
}

/** An RFC 6749 §5.2 error: status 400 with `error` and `error_description`. */
function oauthError(error: 'invalid_request' | 'invalid_target', description: string): RegistryError {
  return new RegistryError('BAD_REQUEST', description, { oauthError: error });
}

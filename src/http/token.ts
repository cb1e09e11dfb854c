import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decide, type ResourceScope } from '../access/decide.js';
import { addressRefusal } from '../access/network.js';
import { formatScopes, parseScopes } from '../access/scope.js';
import { RegistryError } from '../errors/registry-error.js';
import type { Authenticated } from '../identity/authenticate.js';
import { deny } from './caller.js';
import type { Services } from './services.js';
import { readBody } from './v2/context.js';

const FORM_LIMIT = 64 * 1024;

/**
 * The token endpoint (PROTOCOLS.md §2.3–2.4): GET with Basic credentials, and the OAuth2 POST
 * form with the `password` and `refresh_token` grants. A token carries only the requested
 * actions that the caller's bindings grant; asking for more is not an error.
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
  const who = await basicCredentials(request, services);
  const scopes = parseScopes(query.getAll('scope'));
  const offline = query.get('offline_token') === 'true';
  await respond(request, reply, services, who, scopes, offline, false);
}

async function tokenPost(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<void> {
  const body = await readBody(request, FORM_LIMIT, new RegistryError('BAD_REQUEST', 'form body too large'));
  const form = new URLSearchParams(body.toString('utf8'));
  checkService(form.get('service'), services);
  const grant = form.get('grant_type');
  let who: Authenticated | undefined;
  let offline = form.get('access_type') === 'offline';
  if (grant === 'password') {
    who = await signIn(request, services, form.get('username') ?? '', form.get('password') ?? '');
  } else if (grant === 'refresh_token') {
    who = await services.authenticator.refreshToken(form.get('refresh_token') ?? '');
    offline = false;
  } else {
    throw new RegistryError('BAD_REQUEST', 'grant_type must be password or refresh_token');
  }
  if (!who) throw unauthorized();
  await respond(request, reply, services, who, parseScopes([form.get('scope') ?? '']), offline, true);
}

async function respond(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  who: Authenticated,
  requested: ResourceScope[],
  offline: boolean,
  oauth: boolean,
): Promise<void> {
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
  if (oauth) body.scope = formatScopes(access);
  // Robots hold a secret already; refresh tokens are for people's clients (docker login).
  if (offline && who.userId) body.refresh_token = await services.authenticator.issueRefreshToken(who, services.config.auth.refreshTokenTtl);
  reply.header('Cache-Control', 'no-store').code(200).send(body);
}

async function basicCredentials(request: FastifyRequest, services: Services): Promise<Authenticated> {
  const header = request.headers.authorization;
  if (!header || !/^basic /i.test(header)) {
    throw unauthorized('authentication required: this registry serves no anonymous requests');
  }
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw unauthorized();
  const who = await signIn(request, services, decoded.slice(0, colon), decoded.slice(colon + 1));
  if (!who) throw unauthorized();

  return who;
}

/**
 * Checks a password behind the login throttle: while the account name or the client address
 * must wait, nothing is checked and the answer is 429 with `Retry-After`, whether or not the
 * account exists and whether or not the password is right.
 */
async function signIn(
  request: FastifyRequest,
  services: Services,
  name: string,
  password: string,
): Promise<Authenticated | undefined> {
  const wait = services.throttle.retryAfter(name, request.ip);
  if (wait > 0) {
    throw new RegistryError('TOOMANYREQUESTS', 'too many failed sign-ins; try again later', {
      headers: { 'Retry-After': String(wait) },
    });
  }
  const who = await services.authenticator.password(name, password, request.ip);
  if (who) services.throttle.succeeded(name);
  else services.throttle.failed(name, request.ip);

  return who;
}

function checkService(service: string | null, services: Services): void {
  if (service !== null && service !== services.config.auth.service) {
    throw new RegistryError('BAD_REQUEST', 'unknown service');
  }
}

/** Wrong user, wrong password and disabled account all get this same answer. */
function unauthorized(message = 'invalid credentials'): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, {
    headers: { 'WWW-Authenticate': 'Basic realm="portcullis", charset="UTF-8"' },
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors/registry-error.js';
import type { PeopleLogin } from '../identity/people/login.js';
import { realmOf } from './caller.js';
import type { Services } from './services.js';
import { readBody } from './v2/context.js';

const FORM_LIMIT = 16 * 1024;

/**
 * Sign-in of people through the OpenID provider (`auth.oidc`): `/auth/login` sends the browser
 * to the provider, `/auth/callback` finishes there, and `/auth/cli/token` lets `portcullis
 * login` trade its one-time code for a refresh token. Without `auth.oidc` all answer 404.
 */
export function registerLogin(app: FastifyInstance, services: Services): void {
  app.get('/auth/login', async (request, reply) => {
    const login = enabled(services);
    const query = takeQuery(request);
    const cli = ['cli_redirect', 'cli_challenge', 'cli_state'].map((name) => query.get(name));
    if (cli.some((v) => v !== null) && cli.some((v) => v === null)) {
      throw new RegistryError('BAD_REQUEST', 'give cli_redirect, cli_challenge and cli_state together, or none of them');
    }
    const [redirect, challenge, state] = cli as [string | null, string | null, string | null];
    const started = await login.begin(callbackOf(request, services), redirect && challenge && state ? { redirect, challenge, state } : undefined);
    setCookie(request, reply, started.cookie.name, started.cookie.value, started.cookie.maxAgeSeconds);

    return reply.header('Cache-Control', 'no-store').redirect(started.location, 302);
  });

  app.get('/auth/callback', async (request, reply) => {
    const login = enabled(services);
    const query = takeQuery(request);
    const state = query.get('state') ?? '';
    const cookieName = login.cookieFor(state);
    // The cookie has done its job (or the state is bad): it goes either way.
    if (cookieName) setCookie(request, reply, cookieName, '', 0);
    const error = query.get('error');
    if (error !== null) {
      const code = /^[a-z_]{1,64}$/.test(error) ? error : 'error';
      throw new RegistryError('DENIED', `sign-in refused by the OpenID provider (${code})`);
    }
    const finished = await login.finish(query.get('code') ?? '', state, cookieName ? cookiesOf(request).get(cookieName) : undefined);
    // This page's address holds the code and state: no other site may learn it as a referrer.
    reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
    if (finished.cliLocation) return reply.redirect(finished.cliLocation, 302);

    return reply.header('Content-Type', 'text/html; charset=utf-8').header('Content-Security-Policy', "default-src 'none'").send(signedInPage(finished.name));
  });

  app.post('/auth/cli/token', async (request, reply) => {
    const login = enabled(services);
    const body = await readBody(request, FORM_LIMIT, new RegistryError('BAD_REQUEST', 'form body too large'));
    const form = new URLSearchParams(body.toString('utf8'));
    const redeemed = await login.redeem(form.get('code') ?? '', form.get('code_verifier') ?? '');
    request.logFields = { ...request.logFields, user: redeemed.name };

    return reply
      .header('Cache-Control', 'no-store')
      .send({ refresh_token: redeemed.refreshToken, username: redeemed.name, expires_in: redeemed.expiresIn });
  });
}

function enabled(services: Services): PeopleLogin {
  if (!services.people) throw new RegistryError('NOT_FOUND', 'sign-in through an OpenID provider is not configured (auth.oidc)');

  return services.people;
}

/** The redirect URI registered at the provider: the registry's own origin, as its token realm names it. */
function callbackOf(request: FastifyRequest, services: Services): string {
  return `${new URL(realmOf(request, services)).origin}/auth/callback`;
}

/** The query (which `loggableUrl` keeps out of the log: it carries codes and sealed state). */
function takeQuery(request: FastifyRequest): URLSearchParams {
  return new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '');
}

/** HttpOnly keeps scripts from it; Lax still sends it on the provider's top-level redirect back. */
function setCookie(request: FastifyRequest, reply: FastifyReply, name: string, value: string, maxAgeSeconds: number): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header('Set-Cookie', `${name}=${value}; Path=/auth/callback; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`);
}

function cookiesOf(request: FastifyRequest): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) found.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }

  return found;
}

function signedInPage(name: string): string {
  const who = escapeHtml(name);

  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>\n<body><p>Signed in to Portcullis as <strong>${who}</strong>. You can close this window.</p></body></html>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../errors/registry-error.js';
import type { Authenticated } from '../identity/authenticate.js';
import { FederationRefusal } from '../identity/federation/verify.js';
import type { Services } from './services.js';

/**
 * Who is asking at `/token`: Basic credentials (a user, a robot, or an issuer alias with the
 * issuer's JWT as the password), a bearer JWT from a trusted issuer, or, with no Authorization
 * header, an X.509-SVID the client presented over mTLS.
 */
export async function tokenCaller(request: FastifyRequest, services: Services): Promise<Authenticated> {
  const header = request.headers.authorization;
  if (header && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw unauthorized();
    const name = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    // The name tried is recorded with the attempt, whether or not it exists.
    request.audit = { credential: name };
    if (await services.federation.isIssuerAlias(name)) return federatedSignIn(request, services, secret, name);
    const who = await signIn(request, services, name, secret);
    if (!who) throw unauthorized();
    return who;
  }
  if (header && /^bearer /i.test(header)) return federatedSignIn(request, services, header.slice(7).trim());
  const chain = peerChain(request);
  if (chain) return certificateSignIn(request, services, chain);

  throw unauthorized('authentication required: this registry serves no anonymous requests');
}

/**
 * Checks a password behind the login throttle: while the account name or the client address
 * must wait, nothing is checked and the answer is 429 with `Retry-After`, whether or not the
 * account exists and whether or not the password is right.
 */
export async function signIn(
  request: FastifyRequest,
  services: Services,
  name: string,
  password: string,
): Promise<Authenticated | undefined> {
  holdBack(services, name, request.ip);
  const who = await services.authenticator.password(name, password, request.ip);
  if (who) services.throttle.succeeded(name);
  else services.throttle.failed(name, request.ip);

  return who;
}

/**
 * Trades an external JWT for the principal of the rule it matches. Refusals name the failed
 * check to the client and in the log line; they count against the client's address only, as
 * an issuer alias is shared by every workload of that issuer.
 */
export async function federatedSignIn(request: FastifyRequest, services: Services, token: string, alias?: string): Promise<Authenticated> {
  holdBack(services, null, request.ip);
  try {
    return await services.federation.token(token, request.ip, alias);
  } catch (err) {
    throw refused(request, services, err);
  }
}

async function certificateSignIn(request: FastifyRequest, services: Services, chain: X509Certificate[] | string): Promise<Authenticated> {
  holdBack(services, null, request.ip);
  try {
    if (typeof chain === 'string') throw new FederationRefusal('bad-certificate', chain);
    return await services.federation.certificate(chain, request.ip);
  } catch (err) {
    throw refused(request, services, err);
  }
}

function refused(request: FastifyRequest, services: Services, err: unknown): unknown {
  if (!(err instanceof FederationRefusal)) return err;
  if (err.reason !== 'keys-unavailable') services.throttle.failed(null, request.ip);
  request.logFields = {
    ...request.logFields,
    refused: err.reason,
    ...(err.issuer ? { issuer: err.issuer } : {}),
    ...(err.detail ? { refusedDetail: err.detail } : {}),
  };
  // An unreachable issuer is our outage, not the client's mistake: 503, so it is not told its credential is bad.
  if (err.reason === 'keys-unavailable') return new RegistryError('UNAVAILABLE', `federated credential not checked: ${err.message}`);

  return unauthorized(`federated credential refused: ${err.message}`);
}

function holdBack(services: Services, account: string | null, address: string): void {
  const wait = services.throttle.retryAfter(account, address);
  if (wait > 0) {
    throw new RegistryError('TOOMANYREQUESTS', 'too many failed sign-ins; try again later', {
      headers: { 'Retry-After': String(wait) },
    });
  }
}

/**
 * The client certificate chain of an mTLS connection, leaf first; a string saying why when the
 * client sent a certificate that TLS could not verify; undefined when it sent none.
 */
function peerChain(request: FastifyRequest): X509Certificate[] | string | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  let peer = socket.getPeerCertificate(true);
  if (!peer || !peer.raw) return undefined;
  if (!socket.authorized) return 'the client certificate does not chain to a trusted SPIFFE bundle';
  const chain: X509Certificate[] = [];
  while (peer?.raw && chain.length < 10) {
    chain.push(new X509Certificate(peer.raw));
    if (peer.issuerCertificate === peer) break;
    peer = peer.issuerCertificate;
  }

  return chain;
}

/** Wrong user, wrong password and disabled account all get this same answer. */
export function unauthorized(message = 'invalid credentials'): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, {
    headers: { 'WWW-Authenticate': 'Basic realm="portcullis", charset="UTF-8"' },
  });
}

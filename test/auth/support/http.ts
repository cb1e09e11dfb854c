import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'vitest';
import { basic } from '../../helpers/client.js';
import type { TestRegistry } from '../../helpers/registry.js';

export interface Credentials {
  name: string;
  password: string;
}

/** The challenge realm the server announces for requests sent to `registry.url`. */
export function realmOf(registry: TestRegistry): string {
  return `${registry.url}/token`;
}

/** The exact `WWW-Authenticate` value of a Bearer challenge. */
export function bearerChallenge(registry: TestRegistry, scope?: string, error?: string): string {
  const params = [`realm="${realmOf(registry)}"`, 'service="portcullis"'];
  if (scope !== undefined) params.push(`scope="${scope}"`);
  if (error !== undefined) params.push(`error="${error}"`);

  return `Bearer ${params.join(',')}`;
}

/** GET /token with Basic credentials; the raw response. */
export function requestToken(
  registry: TestRegistry,
  who: Credentials | undefined,
  scopes: readonly string[],
  extra: Record<string, string> = {},
): Promise<Response> {
  const query = new URLSearchParams({ service: 'portcullis', ...extra });
  for (const scope of scopes) query.append('scope', scope);
  const headers: Record<string, string> = who
    ? { Authorization: basic(who.name, who.password) }
    : {};

  return fetch(`${registry.url}/token?${query}`, { headers });
}

/** A bearer token for the scopes; fails the test when the token endpoint refuses. */
export async function tokenFor(
  registry: TestRegistry,
  who: Credentials,
  scopes: readonly string[],
): Promise<string> {
  const res = await requestToken(registry, who, scopes);
  expect(res.status, await res.clone().text()).toBe(200);

  return ((await res.json()) as { token: string }).token;
}

/** POST /token with a form body. */
export function postToken(registry: TestRegistry, form: Record<string, string>): Promise<Response> {
  return fetch(`${registry.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

export interface V2Options {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** A request to the registry with an optional bearer token. */
export function call(
  registry: TestRegistry,
  path: string,
  options: V2Options = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;

  return fetch(new URL(path, registry.url), {
    method: options.method ?? 'GET',
    headers,
    body: options.body,
    redirect: 'manual',
  });
}

/** The header and payload of a compact JWS, decoded without verification. */
export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  const decode = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));

  return { header: decode(header), payload: decode(payload) };
}

/** The first OCI error code of a JSON error body. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: Array<{ code?: string }> };

  return body.errors?.[0]?.code;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends a request with node:http, which keeps the path exactly as given (no `..` or `//`
 * normalisation, no re-encoding), and allows repeated headers.
 */
export function rawRequest(
  registry: TestRegistry,
  method: string,
  path: string,
  headers: OutgoingHttpHeaders = {},
  body?: Buffer | string,
): Promise<RawResponse> {
  const url = new URL(registry.url);

  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Writes raw bytes on a fresh connection and returns whatever the server answered before it
 * closed the connection or `waitMs` passed. For requests node:http refuses to build.
 */
export function rawSocket(
  registry: TestRegistry,
  bytes: string | Buffer,
  waitMs = 2000,
): Promise<string> {
  const url = new URL(registry.url);

  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    const parts: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(parts).toString('latin1'));
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (part) => parts.push(part));
    socket.on('error', done);
    socket.on('close', done);
    socket.write(bytes);
  });
}

/** Fails unless the server still answers its liveness probe. */
export async function expectAlive(registry: TestRegistry): Promise<void> {
  const res = await fetch(`${registry.url}/healthz`);
  expect(res.status).toBe(200);
}

/**
 * Retries `probe` until it returns true or `limitMs` passes. Used only where a change travels
 * asynchronously (PostgreSQL LISTEN/NOTIFY), never for SQLite.
 */
export async function eventually(probe: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

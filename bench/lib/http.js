// Thin promise wrapper over node:http with one shared keep-alive agent.
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 10000 });

/** An unexpected HTTP response, with enough detail to report exactly what the server said. */
export class HttpError extends Error {
  constructor(what, { method, url, status, headers, body }) {
    const snippet = body ? Buffer.from(body).toString('utf8').slice(0, 600) : '';
    super(`${what}: ${method} ${url} -> ${status}${snippet ? ` body=${snippet}` : ''}`);
    this.detail = { method, url, status, headers, body: snippet };
  }
}

/**
 * request(method, url, opts) → { status, headers, body?: Buffer, res? }
 *  opts.headers  request headers
 *  opts.body     Buffer | string | Readable | async iterable (streamed)
 *  opts.read     'buffer' (default) | 'discard' | 'stream' (caller consumes res)
 */
export function request(method, url, { headers = {}, body, read = 'buffer', useAgent = agent, timeoutMs = 600000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: useAgent }, (res) => {
      const base = { status: res.statusCode, headers: res.headers };
      if (read === 'stream') return resolve({ ...base, res });
      if (read === 'discard') {
        res.on('end', () => resolve(base));
        res.on('error', reject);
        res.resume();
        return undefined;
      }
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ ...base, body: Buffer.concat(parts) }));
      res.on('error', reject);
      return undefined;
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
    req.on('error', reject);
    if (body === undefined || body === null) return req.end();
    if (typeof body === 'string' || Buffer.isBuffer(body)) return req.end(body);
    const src = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
    pipeline(src, req).catch((err) => { req.destroy(err); reject(err); });
    return undefined;
  });
}

/** Unauthenticated probe without keep-alive (readiness checks). */
export function rawRequest(method, url) {
  return request(method, url, { useAgent: false, timeoutMs: 2000, headers: { connection: 'close' } });
}

/** Resolve a Location header (absolute or relative) against the request URL. */
export function resolveLocation(location, base) {
  if (!location) throw new Error(`no Location header in response to ${base}`);
  return new URL(location, base).toString();
}

/** Append query parameters to a URL that may already carry some (e.g. distribution's _state). */
export function withQuery(url, params) {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

// Docker token-auth client: learn the realm from a 401 challenge, trade Basic
// credentials for a bearer token per scope, cache it until shortly before expiry.
import { HttpError, request } from './http.js';

/** Parse `Bearer realm="…",service="…",scope="…"` (quoted values may contain commas). */
export function parseChallenge(header) {
  if (!header) return null;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const params = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let p;
  while ((p = re.exec(m[2])) !== null) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme: m[1].toLowerCase(), params };
}

const REFRESH_MARGIN_MS = 15000;

export class TokenAuth {
  constructor({ baseUrl, user, password }) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.user = user;
    this.basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    this.mode = null; // 'bearer' | 'basic' | 'none'
    this.realm = null;
    this.service = null;
    this.cache = new Map(); // scope key -> { header, expiresAt }
    this.pending = new Map(); // scope key -> Promise<header>
    this.fetches = 0;
  }

  /** Ping /v2/ to learn the auth scheme (what docker and podman do first). */
  async init() {
    const url = `${this.baseUrl}/v2/`;
    const r = await request('GET', url);
    if (r.status === 200) { this.mode = 'none'; return this; }
    const ch = parseChallenge(r.headers['www-authenticate']);
    if (r.status !== 401 || !ch) throw new HttpError('expected 401 with a WWW-Authenticate challenge', { method: 'GET', url, ...r });
    this.adoptChallenge(ch);
    const check = await request('GET', url, { headers: { authorization: await this.authHeader('') } });
    if (check.status !== 200) throw new HttpError('GET /v2/ with credentials failed', { method: 'GET', url, ...check });
    return this;
  }

  adoptChallenge(ch) {
    if (ch.scheme === 'basic') { this.mode = 'basic'; return; }
    if (ch.scheme !== 'bearer' || !ch.params.realm) throw new Error(`unsupported challenge: ${JSON.stringify(ch)}`);
    this.mode = 'bearer';
    this.realm = new URL(ch.params.realm, this.baseUrl).toString();
    this.service = ch.params.service ?? null;
  }

  /** Cached header for a scope, or null when absent/expiring (fast, synchronous path). */
  cachedHeader(scope) {
    if (this.mode === 'none') return undefined;
    if (this.mode === 'basic') return this.basic;
    const hit = this.cache.get(scope);
    return hit && hit.expiresAt - REFRESH_MARGIN_MS > Date.now() ? hit.header : null;
  }

  async authHeader(scope) {
    const cached = this.cachedHeader(scope);
    if (cached !== null) return cached;
    let p = this.pending.get(scope);
    if (!p) {
      p = this.fetchToken(scope.split(' ').filter(Boolean)).then((entry) => {
        this.cache.set(scope, entry);
        return entry.header;
      }).finally(() => this.pending.delete(scope));
      this.pending.set(scope, p);
    }
    return p;
  }

  invalidate(scope) { this.cache.delete(scope); }

  async fetchToken(scopes) {
    const u = new URL(this.realm);
    if (this.service) u.searchParams.set('service', this.service);
    for (const s of scopes) u.searchParams.append('scope', s);
    u.searchParams.set('account', this.user);
    this.fetches += 1;
    const started = Date.now();
    const r = await request('GET', u.toString(), { headers: { authorization: this.basic } });
    if (r.status !== 200) throw new HttpError('token request failed', { method: 'GET', url: u.toString(), ...r });
    let json;
    try { json = JSON.parse(r.body.toString('utf8')); } catch {
      throw new HttpError('token response is not JSON', { method: 'GET', url: u.toString(), ...r });
    }
    const token = json.token || json.access_token;
    if (!token) throw new HttpError('token response has neither token nor access_token', { method: 'GET', url: u.toString(), ...r });
    const ttl = Math.max(60, Number(json.expires_in) || 60);
    return { header: `Bearer ${token}`, expiresAt: started + ttl * 1000 };
  }

  /**
   * Send a request with the token for `scope`. On 401, adopt the challenge (its scope
   * plus ours), fetch a fresh token and retry once — unless the body was a stream.
   */
  async send(method, url, opts = {}, scope = '') {
    const auth = await this.authHeader(scope);
    const headers = { ...opts.headers };
    if (auth) headers.authorization = auth;
    const r = await request(method, url, { ...opts, headers });
    if (r.status !== 401) return r;
    if (r.res) r.res.resume();
    const ch = parseChallenge(r.headers['www-authenticate']);
    const replayable = opts.body === undefined || typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
    if (!ch || !replayable) throw new HttpError('unexpected 401', { method, url, ...r });
    this.adoptChallenge(ch);
    const wanted = new Set(scope.split(' ').filter(Boolean));
    for (const s of (ch.params.scope || '').split(' ').filter(Boolean)) wanted.add(s);
    const entry = await this.fetchToken([...wanted]);
    this.cache.set(scope, entry);
    const retry = await request(method, url, { ...opts, headers: { ...opts.headers, authorization: entry.header } });
    if (retry.status === 401) throw new HttpError('401 again with a fresh token', { method, url, ...retry });
    return retry;
  }
}


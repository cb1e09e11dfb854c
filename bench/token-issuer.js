#!/usr/bin/env node
// Minimal Docker-registry token issuer for the reference registry (distribution 2.8).
// GET /token?service=…&scope=…  with Basic auth → {token, access_token, expires_in, issued_at}.
// Tokens are ES256 JWTs; the header carries `kid` = libtrust key ID of the signing key
// (PROTOCOLS.md §2.6) and, with --x5c, also the signing certificate.
//
// Standalone: node bench/token-issuer.js --port P --key key.pem --cert cert.pem \
//   --user U --service S --issuer I [--ttl 300] [--x5c]   (password in env BENCH_ISSUER_PASSWORD)
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32NoPad(buf) {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** libtrust key ID: SHA-256 of DER SPKI, first 30 bytes, base32, 12 groups of 4. */
export function libtrustKeyId(publicKey) {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const b32 = base32NoPad(crypto.createHash('sha256').update(der).digest().subarray(0, 30));
  return b32.match(/.{4}/g).join(':');
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Parse one scope `type:name:actions`; the name may itself contain ':' (host:port). */
export function parseScope(scope) {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return null;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(',').filter(Boolean),
  };
}

export function createIssuer({ keyPem, certPem, user, password, service, issuer, ttl = 300, x5c = false }) {
  const privateKey = crypto.createPrivateKey(keyPem);
  const cert = new crypto.X509Certificate(certPem);
  const header = { typ: 'JWT', alg: 'ES256', kid: libtrustKeyId(cert.publicKey) };
  if (x5c) header.x5c = [cert.raw.toString('base64')];
  const encodedHeader = b64url(header);
  const expected = Buffer.from(`Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);

  function sign(sub, access) {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer, sub, aud: service, exp: now + ttl, nbf: now - 5, iat: now,
      jti: crypto.randomBytes(12).toString('hex'), access,
    };
    const input = `${encodedHeader}.${b64url(claims)}`;
    const sig = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${input}.${sig.toString('base64url')}`, now };
  }

  function send(res, status, body, extra = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
    res.end(text);
  }

  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://issuer.invalid');
    if (req.method !== 'GET' || url.pathname !== '/token') return send(res, 404, { error: 'not_found' });
    const got = Buffer.from(req.headers.authorization || '');
    if (got.length !== expected.length || !crypto.timingSafeEqual(got, expected)) {
      return send(res, 401, { error: 'unauthorized', details: 'bad credentials' },
        { 'www-authenticate': 'Basic realm="bench-issuer"' });
    }
    if (url.searchParams.get('service') && url.searchParams.get('service') !== service) {
      return send(res, 400, { error: 'invalid_request', details: 'unknown service' });
    }
    const access = [];
    for (const raw of url.searchParams.getAll('scope')) {
      for (const one of raw.split(' ').filter(Boolean)) {
        const s = parseScope(one);
        if (s) access.push(s); // the bench user is granted everything it asks for
      }
    }
    const { token, now } = sign(user, access);
    send(res, 200, { token, access_token: token, expires_in: ttl, issued_at: new Date(now * 1000).toISOString() });
  });
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--x5c') opts.x5c = true;
    else if (a.startsWith('--')) opts[a.slice(2)] = argv[++i];
  }
  return opts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const server = createIssuer({
    keyPem: fs.readFileSync(o.key), certPem: fs.readFileSync(o.cert),
    user: o.user, password: process.env.BENCH_ISSUER_PASSWORD ?? o.password, service: o.service, issuer: o.issuer,
    ttl: Number(o.ttl || 300), x5c: Boolean(o.x5c),
  });
  server.keepAliveTimeout = 30000;
  server.listen(Number(o.port), '127.0.0.1', () => {
    process.stdout.write(`token issuer listening on 127.0.0.1:${server.address().port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

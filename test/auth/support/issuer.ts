import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

type Algorithm = 'RS256' | 'ES256' | 'EdDSA';

interface SigningKey {
  alg: Algorithm;
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

/**
 * A real OpenID Connect token issuer on loopback, as CI systems run one: a discovery document
 * at `/.well-known/openid-configuration`, keys at `/keys`, tokens signed with real keys. It
 * counts how often each document is fetched, and can rotate its keys.
 */
export interface TestIssuer {
  url: string;
  fetches: { discovery: number; jwks: number };
  /** Signs `claims` (iss, iat and exp filled in unless given) with the current key. */
  sign(claims: JWTPayload, options?: { alg?: Algorithm; header?: Record<string, unknown>; key?: SigningKey }): Promise<string>;
  /** Replaces the published keys with a new one, which signs from now on. */
  rotate(alg?: Algorithm): Promise<SigningKey>;
  /** A key this issuer never published (for forged tokens). */
  stranger(alg?: Algorithm): Promise<SigningKey>;
  jwks(): { keys: JWK[] };
  /** While true, discovery and keys answer 503 (still counted). */
  failing: boolean;
  close(): Promise<void>;
}

async function newKey(alg: Algorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);

  return { alg, kid, privateKey, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

export async function startIssuer(alg: Algorithm = 'RS256', options: { discoveryIssuer?: string } = {}): Promise<TestIssuer> {
  let keys = [await newKey(alg)];
  const fetches = { discovery: 0, jwks: 0 };
  let url = '';
  const state = { failing: false };
  const server: Server = createServer((request, response) => {
    const send = (body: unknown) =>
      state.failing ? response.writeHead(503).end() : response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (request.url === '/.well-known/openid-configuration') {
      fetches.discovery++;
      send({ issuer: options.discoveryIssuer ?? url, jwks_uri: `${url}/keys`, id_token_signing_alg_values_supported: [alg] });
    } else if (request.url === '/keys') {
      fetches.jwks++;
      send({ keys: keys.map((k) => k.jwk) });
    } else {
      response.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    fetches,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    async sign(claims, signOptions = {}) {
      const key = signOptions.key ?? keys[keys.length - 1]!;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: url, iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...signOptions.header })
        .sign(key.privateKey);
    },
    async rotate(nextAlg = alg) {
      const key = await newKey(nextAlg);
      keys = [key];
      return key;
    },
    stranger: (strangerAlg = alg) => newKey(strangerAlg),
    jwks: () => ({ keys: keys.map((k) => k.jwk) }),
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

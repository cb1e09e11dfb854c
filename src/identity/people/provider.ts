import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isKeyUrl, type OidcLoginConfig } from '../../config/schema.js';
import { RegistryError } from '../../errors/registry-error.js';
import { JsonDocument } from '../federation/documents.js';
import { verifyIdToken } from './id-token.js';

const DISCOVERY_MAX_AGE_MS = 60 * 60 * 1000;
const DISCOVERY_COOLDOWN_MS = 30 * 1000;
const JWKS_MAX_AGE_MS = 10 * 60 * 1000;
const TOKEN_TIMEOUT_MS = 10 * 1000;
const MAX_TOKEN_RESPONSE = 256 * 1024;

interface Endpoints {
  authorization: string;
  token: string;
  jwks: string;
}

/** What the registry sends the person's browser to the provider with. */
export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  nonce: string;
  challenge: string;
}

/**
 * The OpenID provider as seen by this registry, its relying party: endpoints from discovery
 * (whose `issuer` must be exactly the configured one), the authorization request, the code
 * exchange at the token endpoint, and ID token verification with the provider's published keys.
 */
export class OpenIdProvider {
  private readonly discovery: JsonDocument;
  private keys: { url: string; set: JWTVerifyGetKey } | undefined;

  constructor(private readonly config: OidcLoginConfig) {
    this.discovery = new JsonDocument(
      { url: `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration` },
      { maxAgeMs: DISCOVERY_MAX_AGE_MS, cooldownMs: DISCOVERY_COOLDOWN_MS },
    );
  }

  async authorizationUrl(request: AuthorizationRequest): Promise<string> {
    const url = new URL((await this.endpoints()).authorization);
    const params = {
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: request.redirectUri,
      scope: this.config.scopes.join(' '),
      state: request.state,
      nonce: request.nonce,
      code_challenge: request.challenge,
      code_challenge_method: 'S256',
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);

    return url.toString();
  }

  /** Trades the authorization code for an ID token and returns its verified claims. */
  async signIn(code: string, redirectUri: string, verifier: string, nonce: string): Promise<JWTPayload> {
    const endpoints = await this.endpoints();
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
    if (this.config.clientSecret) {
      // RFC 6749 §2.3.1: both parts are form-encoded before they are joined.
      headers.Authorization = `Basic ${Buffer.from(`${formEncode(this.config.clientId)}:${formEncode(this.config.clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', this.config.clientId);
    }
    const response = await fetch(endpoints.token, {
      method: 'POST',
      headers,
      body: form.toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    }).catch((err: unknown) => {
      throw new RegistryError('UNAVAILABLE', 'the OpenID provider cannot be reached', { cause: err });
    });
    const text = await response.text();
    const body = text.length <= MAX_TOKEN_RESPONSE ? parseObject(text) : {};
    if (!response.ok) {
      const error = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : `status ${response.status}`;
      throw new RegistryError('DENIED', `sign-in refused: the OpenID provider did not accept the authorization code (${error})`);
    }
    if (typeof body.id_token !== 'string') throw new RegistryError('DENIED', 'sign-in refused: the OpenID provider returned no ID token');

    return verifyIdToken(body.id_token, await this.keySet(endpoints.jwks), { issuer: this.config.issuer, clientId: this.config.clientId, nonce });
  }

  private async keySet(url: string): Promise<JWTVerifyGetKey> {
    if (this.keys?.url !== url) this.keys = { url, set: createRemoteJWKSet(new URL(url), { cacheMaxAge: JWKS_MAX_AGE_MS }) };

    return this.keys.set;
  }

  private async endpoints(): Promise<Endpoints> {
    const document = (await this.discovery.get().catch((err: unknown) => {
      throw new RegistryError('UNAVAILABLE', "the OpenID provider's discovery document cannot be fetched", { cause: err });
    })) as Record<string, unknown> | null;
    // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if (document?.issuer !== this.config.issuer) throw misconfigured('the discovery document names another issuer');
    const methods = document.code_challenge_methods_supported;
    if (Array.isArray(methods) && !methods.includes('S256')) throw misconfigured('the provider does not support PKCE with S256');
    const endpoint = (name: string): string => {
      const value = document[name];
      if (typeof value !== 'string' || !isKeyUrl(value)) throw misconfigured(`the discovery document has no usable ${name}`);
      return value;
    };

    return { authorization: endpoint('authorization_endpoint'), token: endpoint('token_endpoint'), jwks: endpoint('jwks_uri') };
  }
}

function misconfigured(message: string): RegistryError {
  return new RegistryError('UNAVAILABLE', `sign-in through the OpenID provider is unavailable: ${message}`);
}

function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

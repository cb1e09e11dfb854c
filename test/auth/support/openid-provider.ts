import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/** A person the provider knows, by the login its sign-in form takes (any password works; the login is the `sub`). */
export interface ProviderAccount {
  preferred_username?: string;
  email?: string;
  groups?: unknown;
}

export interface ProviderClient {
  client_id: string;
  /** Without a secret the client is public (token_endpoint_auth_method none). */
  client_secret?: string;
  redirect_uris: string[];
}

/**
 * A real OpenID provider (the `oidc-provider` package) on loopback, with its built-in
 * development sign-in and consent pages. Accounts are looked up by the login typed into the
 * sign-in form; change `accounts` between sign-ins to change what the provider says.
 */
export interface TestProvider {
  issuer: string;
  accounts: Map<string, ProviderAccount>;
  /** (Re)configures the provider with these clients; until then it answers 503. */
  setClients(clients: ProviderClient[]): void;
  close(): Promise<void>;
}

export async function startProvider(): Promise<TestProvider> {
  const accounts = new Map<string, ProviderAccount>();
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const key = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  let handler: ReturnType<Provider['callback']> | undefined;
  server.on('request', (request, response) => (handler ? handler(request, response) : response.writeHead(503).end()));
  const configure = (clients: ProviderClient[]) => new Provider(issuer, {
    clients: clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.client_secret ? 'client_secret_basic' : 'none',
    })),
    jwks: { keys: [key] },
    cookies: { keys: ['test-cookie-key-not-a-secret'] },
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'], groups: ['groups'] },
    // Put the scopes' claims in the ID token, as providers configured for group mapping do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    findAccount: async (_ctx: unknown, id: string) => {
      const account = accounts.get(id);
      return account && { accountId: id, claims: async () => ({ ...account, sub: id }) };
    },
  });

  return {
    issuer,
    accounts,
    setClients: (clients) => {
      const provider = configure(clients);
      // Keep the provider's own error reports out of the test output.
      provider.on('server_error', () => undefined);
      handler = provider.callback();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

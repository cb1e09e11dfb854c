import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { newPkce } from '../../../src/identity/people/pkce.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Browser } from './browser.js';
import { startLoggedRegistry } from './logged-registry.js';
import { startProvider, type TestProvider } from './openid-provider.js';

export const CLIENT_ID = 'portcullis';
export const CLIENT_SECRET = 'client-secret-for-tests-only';

export interface PeopleSetup {
  provider: TestProvider;
  /** With the `logged` engine, a LoggedRegistry (SQLite) whose log lines can be read. */
  registry: TestRegistry;
  close(): Promise<void>;
}

/** A real OpenID provider and a registry that signs people in through it (a confidential client). */
export async function startPeopleSetup(
  extraClients: Array<{ client_id: string; client_secret?: string }> = [],
  engine: 'sqlite' | 'postgres' | 'logged' = 'sqlite',
): Promise<PeopleSetup> {
  const provider = await startProvider();
  const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-oidc-'));
  const file = path.join(dir, 'portcullis.yaml');
  await writeFile(
    file,
    [
      'auth:',
      '  oidc:',
      `    issuer: ${provider.issuer}`,
      `    clientId: ${CLIENT_ID}`,
      `    clientSecret: ${CLIENT_SECRET}`,
      '    scopes: [openid, profile, email, groups]',
      '    sessionTtl: 3600',
      '',
    ].join('\n'),
  );
  const registry = engine === 'logged' ? await startLoggedRegistry({ configFile: file }) : await startRegistry({ configFile: file, engine });
  const redirect_uris = [`${registry.url}/auth/callback`];
  provider.setClients([{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris }, ...extraClients.map((c) => ({ ...c, redirect_uris }))]);

  return {
    provider,
    registry,
    close: async () => {
      await registry.close();
      await provider.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An address nothing listens on: the flow is stopped before the browser would go there. */
export const CLI_REDIRECT = 'http://127.0.0.1:9/callback';

/**
 * Does what `portcullis login` and the person's browser do, up to the one-time code: returns
 * the code with the verifier that redeems it.
 */
export async function cliCode(setup: PeopleSetup, login: string): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = newPkce();
  const start = new URL('/auth/login', setup.registry.url);
  start.search = new URLSearchParams({ cli_redirect: CLI_REDIRECT, cli_challenge: challenge, cli_state: 'state-123' }).toString();
  const end = await new Browser(login).visit(start.toString(), (next) => next.port === '9');
  expect(end.response, end.response && (await end.response.clone().text())).toBeUndefined();
  const back = new URL(end.url);
  expect(back.searchParams.get('state')).toBe('state-123');

  return { code: back.searchParams.get('code')!, verifier };
}

export function redeem(setup: PeopleSetup, form: Record<string, string>): Promise<Response> {
  return fetch(`${setup.registry.url}/auth/cli/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

/** A refresh token from a complete CLI sign-in. */
export async function cliSignIn(setup: PeopleSetup, login: string): Promise<{ refresh_token: string; username: string; expires_in: number }> {
  const { code, verifier } = await cliCode(setup, login);
  const res = await redeem(setup, { code, code_verifier: verifier });
  expect(res.status, await res.clone().text()).toBe(200);

  return (await res.json()) as { refresh_token: string; username: string; expires_in: number };
}

/** The scope a refresh token gets at POST /token for `scope`. */
export async function grantedScope(registry: TestRegistry, refreshToken: string, scope: string): Promise<string> {
  const res = await fetch(`${registry.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, service: 'portcullis', scope }).toString(),
  });
  expect(res.status, await res.clone().text()).toBe(200);

  return ((await res.json()) as { scope: string }).scope;
}

import { createHash } from 'node:crypto';
import type { OidcLoginConfig } from '../../config/schema.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { MetadataStore } from '../../storage/metadata/index.js';
import type { Authenticator } from '../authenticate.js';
import { userPrincipal } from '../directory.js';
import { identityOf, provision } from './person.js';
import { OpenIdProvider } from './provider.js';
import { isChallenge, newPkce, randomToken, sameText, verifierMatches } from './pkce.js';
import { Sealer } from './sealed.js';

const PENDING_MS = 10 * 60 * 1000;
const CODE_MS = 5 * 60 * 1000;
/** Cookies are named per sign-in, so two sign-ins in one browser do not clobber each other. */
export const LOGIN_COOKIE_PREFIX = 'portcullis_login_';

/** Where `portcullis login` waits for the browser, and what binds the code to that CLI. */
export interface CliRequest {
  redirect: string;
  challenge: string;
  state: string;
}

interface Pending {
  /** Names the browser cookie; its value must match `binding`. */
  id: string;
  binding: string;
  verifier: string;
  nonce: string;
  redirectUri: string;
  cli?: CliRequest;
}

/** The browser's way on after a successful sign-in. */
export interface Finished {
  name: string;
  /** For `portcullis login`: its loopback address with the one-time code. */
  cliLocation?: string;
}

/**
 * People sign in at the OpenID provider (authorization code with PKCE). The pending sign-in is
 * sealed into the OAuth `state` and bound to the browser by a cookie, which stops a forged
 * callback from signing a victim's browser in; the nonce ties the ID token to this sign-in.
 * `portcullis login` gets a one-time code, kept hashed in the store so any node can redeem it,
 * and bound to the CLI's own PKCE challenge so only the process that started can use it.
 */
export class PeopleLogin {
  private readonly provider: OpenIdProvider;

  constructor(
    private readonly store: MetadataStore,
    private readonly config: OidcLoginConfig,
    private readonly authenticator: Authenticator,
    private readonly sealer: Sealer,
  ) {
    this.provider = new OpenIdProvider(config);
  }

  static async create(store: MetadataStore, config: OidcLoginConfig, authenticator: Authenticator): Promise<PeopleLogin> {
    return new PeopleLogin(store, config, authenticator, new Sealer(await store.keys.secret('oidc-login'), 'oidc-login-state'));
  }

  /** Starts a sign-in: where to send the browser, and the cookie to set on it. */
  async begin(redirectUri: string, cli?: CliRequest): Promise<{ location: string; cookie: { name: string; value: string; maxAgeSeconds: number } }> {
    if (cli) checkCli(cli);
    const { verifier, challenge } = newPkce();
    const pending: Pending = { id: randomToken().slice(0, 16), binding: randomToken(), verifier, nonce: randomToken(), redirectUri, ...(cli ? { cli } : {}) };
    const state = this.sealer.seal(pending, PENDING_MS);
    const location = await this.provider.authorizationUrl({ redirectUri, state, nonce: pending.nonce, challenge });

    return { location, cookie: { name: `${LOGIN_COOKIE_PREFIX}${pending.id}`, value: pending.binding, maxAgeSeconds: PENDING_MS / 1000 } };
  }

  /** The cookie name a state belongs to, to read (and clear) it; undefined for a bad state. */
  cookieFor(state: string): string | undefined {
    const pending = this.open(state);

    return pending && `${LOGIN_COOKIE_PREFIX}${pending.id}`;
  }

  /** Finishes a sign-in at the callback with the provider's code, our state and the browser's cookie. */
  async finish(code: string, state: string, cookie: string | undefined): Promise<Finished> {
    const pending = this.open(state);
    if (!pending) throw new RegistryError('BAD_REQUEST', 'sign-in refused: the sign-in state is invalid or expired; start again');
    if (!cookie || !sameText(cookie, pending.binding)) {
      throw new RegistryError('BAD_REQUEST', 'sign-in refused: this browser did not start this sign-in (missing or wrong cookie); start again');
    }
    if (!code || code.length > 4096) throw new RegistryError('BAD_REQUEST', 'sign-in refused: the provider sent no authorization code');
    const claims = await this.provider.signIn(code, pending.redirectUri, pending.verifier, pending.nonce);
    const person = await provision(this.store, identityOf(claims, this.config));
    if (!pending.cli) return { name: person.name };
    const oneTime = randomToken();
    await this.store.principals.people.saveLoginCode(hash(oneTime), person.id, pending.cli.challenge, Date.now() + CODE_MS);
    const location = new URL(pending.cli.redirect);
    location.searchParams.set('code', oneTime);
    location.searchParams.set('state', pending.cli.state);

    return { name: person.name, cliLocation: location.toString() };
  }

  /** Redeems a one-time code from `portcullis login` for a refresh token lasting `sessionTtl`. */
  async redeem(code: string, verifier: string): Promise<{ refreshToken: string; name: string; expiresIn: number }> {
    if (!code || code.length > 256) throw new RegistryError('BAD_REQUEST', 'code is required');
    const found = await this.store.principals.people.redeemLoginCode(hash(code), Date.now());
    // Checked after the code is spent: a wrong verifier burns it, so it cannot be guessed at.
    if (!found) throw new RegistryError('BAD_REQUEST', 'the code is unknown, expired or already used; run portcullis login again');
    if (!verifierMatches(verifier, found.challenge)) throw new RegistryError('BAD_REQUEST', 'the code_verifier does not match this sign-in');
    const user = await this.store.principals.userById(found.userId);
    if (!user || user.disabled) throw new RegistryError('DENIED', 'sign-in refused: the user is disabled or gone');
    const ttl = this.config.sessionTtl;
    const refreshToken = await this.authenticator.issueRefreshToken({ principal: userPrincipal(user.id), name: user.name, userId: user.id }, ttl);

    return { refreshToken, name: user.name, expiresIn: ttl };
  }

  private open(state: string): Pending | undefined {
    const value = this.sealer.open(state) as Pending | undefined;

    return value && typeof value.binding === 'string' && typeof value.id === 'string' ? value : undefined;
  }
}

/**
 * `portcullis login` listens on loopback only: a redirect elsewhere would hand the code to
 * another machine. The PKCE challenge is what keeps other local processes from redeeming it.
 */
function checkCli(cli: CliRequest): void {
  let url: URL;
  try {
    url = new URL(cli.redirect);
  } catch {
    throw new RegistryError('BAD_REQUEST', 'cli_redirect is not a URL');
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
  if (url.protocol !== 'http:' || !loopback || url.port === '' || url.username || url.password || url.hash) {
    throw new RegistryError('BAD_REQUEST', 'cli_redirect must be http://127.0.0.1:PORT/…, http://[::1]:PORT/… or http://localhost:PORT/…');
  }
  if (!isChallenge(cli.challenge)) throw new RegistryError('BAD_REQUEST', 'cli_challenge must be an S256 PKCE challenge (43 base64url characters)');
  if (!/^[\x21-\x7e]{1,256}$/.test(cli.state)) throw new RegistryError('BAD_REQUEST', 'cli_state must be 1-256 printable characters');
}

function hash(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

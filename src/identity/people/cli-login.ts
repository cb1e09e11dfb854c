/**
 * The parts of `portcullis login` that are not terminal or network work: where the registry
 * is, the address the person's browser opens, and the auth file entry Docker, Podman and Skopeo
 * read. With an `identitytoken` they POST `grant_type=refresh_token` to the token realm.
 */

/** The registry's origin and the key clients look its credentials up by (host[:port]). */
export function registryAddress(input: string): { origin: string; host: string } {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(input) ? input : `https://${input}`);
  } catch {
    throw new TypeError(`${input} is not a registry address`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('the registry address must be an http(s) URL');

  return { origin: url.origin, host: url.host };
}

/** The registry page that starts the sign-in and comes back to this CLI's loopback listener. */
export function signInAddress(origin: string, redirect: string, challenge: string, state: string): string {
  const url = new URL('/auth/login', origin);
  url.search = new URLSearchParams({ cli_redirect: redirect, cli_challenge: challenge, cli_state: state }).toString();

  return url.toString();
}

/**
 * The auth file with `host`'s entry replaced by the refresh token; every other entry and key is
 * kept. The entry also names the user with an empty password, as `docker login` writes it:
 * Podman and Skopeo (containers/image) ignore an `identitytoken` without an `auth` beside it.
 * Returns the new text and, when a credential helper would shadow the entry, a warning.
 */
export function withIdentityToken(existing: string | undefined, host: string, username: string, token: string): { text: string; warning?: string } {
  let file: Record<string, unknown> = {};
  if (existing !== undefined && existing.trim() !== '') {
    const parsed = JSON.parse(existing) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('the auth file is not a JSON object');
    file = parsed as Record<string, unknown>;
  }
  const auths = file.auths && typeof file.auths === 'object' && !Array.isArray(file.auths) ? (file.auths as Record<string, unknown>) : {};
  const helpers = file.credHelpers as Record<string, unknown> | undefined;
  const shadowed = typeof file.credsStore === 'string' || (helpers && typeof helpers === 'object' && host in helpers);
  const text = `${JSON.stringify({ ...file, auths: { ...auths, [host]: { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken: token } } }, null, 2)}\n`;

  return shadowed ? { text, warning: `a credential helper in the auth file handles ${host}, so Docker may not use this entry` } : { text };
}

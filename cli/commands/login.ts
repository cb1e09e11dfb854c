import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { registryAddress, signInAddress, withIdentityToken } from '../../src/identity/people/cli-login.js';
import { newPkce, randomToken, sameText } from '../../src/identity/people/pkce.js';
import { print, UsageError } from '../context.js';

const WAIT_MS = 5 * 60 * 1000;

interface LoginOptions {
  authfile?: string;
  browser: boolean;
}

/** `portcullis login REGISTRY`: sign in through the registry's OpenID provider, for Docker, Podman and Skopeo. */
export function loginCommand(): Command {
  return new Command('login')
    .argument('<registry>', 'registry address, e.g. https://registry.example.com')
    .option('--authfile <path>', 'auth file to write (default ~/.docker/config.json)')
    .option('--no-browser', 'only print the address to open; do not start a browser')
    .description("sign in through the registry's OpenID provider and store a refresh token in the auth file")
    .action(async (input: string, options: LoginOptions) => {
      let registry: { origin: string; host: string };
      try {
        registry = registryAddress(input);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const { verifier, challenge } = newPkce();
      const state = randomToken();
      const session = await new Promise<{ refresh_token: string; username: string }>((resolve, reject) => {
        const server = createServer((request, response) => {
          void answer(request, response).then(
            (result) => {
              if (result === undefined) return;
              finish();
              result instanceof Error ? reject(result) : resolve(result);
            },
            (err: unknown) => {
              finish();
              reject(err);
            },
          );
        });
        const timer = setTimeout(() => {
          finish();
          reject(new UsageError('no sign-in within 5 minutes; run portcullis login again'));
        }, WAIT_MS);
        const finish = () => {
          clearTimeout(timer);
          server.close();
          server.closeAllConnections();
        };
        // Only the browser that went through the registry knows `state`; other visitors are ignored.
        const answer = async (request: IncomingMessage, response: ServerResponse) => {
          const url = new URL(request.url ?? '/', 'http://127.0.0.1');
          if (url.pathname !== '/callback' || !sameText(url.searchParams.get('state') ?? '', state)) {
            response.writeHead(404).end();
            return undefined;
          }
          const result = await redeem(registry.origin, url.searchParams.get('code') ?? '', verifier).catch((err: Error) => err);
          const text = result instanceof Error ? 'Sign-in failed; see the terminal.' : 'Signed in. You can close this window.';
          response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end(`${text}\n`);
          return result;
        };
        server.listen(0, '127.0.0.1');
        once(server, 'listening')
          .then(async () => {
            const redirect = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
            const address = signInAddress(registry.origin, redirect, challenge, state);
            await checkStart(address);
            print(`Open this address in a browser to sign in:\n\n  ${address}\n`);
            if (options.browser) openBrowser(address);
          })
          .catch((err: unknown) => {
            finish();
            reject(err);
          });
      });
      const file = options.authfile ?? path.join(homedir(), '.docker', 'config.json');
      const warning = await storeToken(file, registry.host, session.username, session.refresh_token);
      if (warning) process.stderr.write(`portcullis: warning: ${warning}\n`);
      print(`signed in to ${registry.host} as ${session.username}; docker, podman and skopeo will use it`);
    });
}

/** Asks for the sign-in page once, so a registry without OpenID sign-in is reported now, not after 5 minutes. */
async function checkStart(address: string): Promise<void> {
  const response = await fetch(address, { redirect: 'manual', signal: AbortSignal.timeout(30_000) }).catch(() => {
    throw new UsageError(`cannot reach ${new URL(address).origin}`);
  });
  if (response.status === 302) return;
  const body = (await response.json().catch(() => ({}))) as { errors?: Array<{ message?: string }> };
  throw new UsageError(`the registry cannot start a sign-in: ${body.errors?.[0]?.message ?? `status ${response.status}`}`);
}

async function redeem(origin: string, code: string, verifier: string): Promise<{ refresh_token: string; username: string }> {
  const response = await fetch(new URL('/auth/cli/token', origin), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, code_verifier: verifier }).toString(),
    signal: AbortSignal.timeout(30_000),
  }).catch(() => {
    throw new UsageError(`cannot reach ${origin}`);
  });
  const body = (await response.json().catch(() => ({}))) as { refresh_token?: unknown; username?: unknown; errors?: Array<{ message?: string }> };
  if (!response.ok || typeof body.refresh_token !== 'string' || typeof body.username !== 'string') {
    throw new UsageError(`sign-in failed: ${body.errors?.[0]?.message ?? `status ${response.status}`}`);
  }

  return { refresh_token: body.refresh_token, username: body.username };
}

/** Merges the token into the auth file, written whole and then renamed, readable by the owner only. */
async function storeToken(file: string, host: string, username: string, token: string): Promise<string | undefined> {
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`);
  });
  let merged: { text: string; warning?: string };
  try {
    merged = withIdentityToken(existing, host, username, token);
  } catch {
    throw new UsageError(`${file} is not a valid auth file (JSON); fix or move it and run portcullis login again`);
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Write where a symlinked auth file points, through a fresh temporary file that must not exist
  // yet (`wx`): a file planted at a guessable name cannot receive the token.
  const target = await realpath(file).catch(() => file);
  const temporary = `${target}.${randomBytes(12).toString('hex')}.tmp`;
  await writeFile(temporary, merged.text, { mode: 0o600, flag: 'wx' });
  await chmod(temporary, 0o600);
  await rename(temporary, target);

  return merged.warning;
}

/** Best effort: with no desktop, the printed address is enough. */
function openBrowser(address: string): void {
  const command = process.platform === 'darwin' ? 'open' : 'xdg-open';
  try {
    const child = spawn(command, [address], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // Opening a browser is a convenience only.
  }
}

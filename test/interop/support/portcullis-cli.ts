import { randomBytes } from 'node:crypto';

import { registerSecret, runOk, type RunResult } from './run.js';
import { PORTCULLIS_BIN, type PortcullisServer } from './start-server.js';

export type Role = 'reader' | 'writer' | 'maintainer' | 'admin';

/** Runs a `portcullis` admin command against the server's data directory. */
export function portcullis(
  server: PortcullisServer,
  args: readonly string[],
  input?: string,
): Promise<RunResult> {
  return runOk(process.execPath, [PORTCULLIS_BIN, ...args, '--data-dir', server.dataDir], {
    input,
    timeoutMs: 30_000,
  });
}

/** `portcullis user add NAME --password-stdin`; returns the generated password. */
export async function addUser(server: PortcullisServer, name: string): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  registerSecret(password);
  await portcullis(server, ['user', 'add', name, '--password-stdin'], `${password}\n`);

  return password;
}

/** `portcullis namespace create NS`. */
export async function createNamespace(server: PortcullisServer, namespace: string): Promise<void> {
  await portcullis(server, ['namespace', 'create', namespace]);
}

/** `portcullis grant ROLE USER NS`. */
export async function grantRole(
  server: PortcullisServer,
  role: Role,
  user: string,
  namespace: string,
): Promise<void> {
  await portcullis(server, ['grant', role, user, namespace]);
}

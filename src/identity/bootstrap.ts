import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MetadataStore } from '../storage/metadata/index.js';
import { userPrincipal } from './directory.js';
import { generatePassword, hashPassword, passwordProblem } from './passwords.js';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD_FILE = 'admin-password';

export interface BootstrapResult {
  /** Set only when a password was generated: the caller prints it once. */
  generatedPassword?: string;
  passwordFile?: string;
}

/**
 * On the first start (no users at all) creates `admin` with the admin role on every
 * namespace. Its password comes from `PORTCULLIS_ADMIN_PASSWORD`, or is generated and written
 * to a 0600 file in the data directory. There is never a fixed default.
 */
export async function bootstrapAdmin(
  store: MetadataStore,
  dataDir: string,
  suppliedPassword: string | undefined,
): Promise<BootstrapResult | undefined> {
  if ((await store.principals.countUsers()) > 0) return undefined;
  if (suppliedPassword !== undefined) {
    const problem = passwordProblem(suppliedPassword);
    if (problem) throw new Error(`PORTCULLIS_ADMIN_PASSWORD: ${problem}`);
  }
  const password = suppliedPassword ?? generatePassword();
  const user = await store.principals.createUser(ADMIN_USER, await hashPassword(password));
  await store.principals.grant(userPrincipal(user.id), '*', 'admin');
  if (suppliedPassword !== undefined) return {};

  const passwordFile = path.join(dataDir, ADMIN_PASSWORD_FILE);
  // An existing file would keep its mode (maybe world-readable) when overwritten, and could be
  // a symlink: remove it and create a new one exclusively.
  await rm(passwordFile, { force: true });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600, flag: 'wx' });

  return { generatedPassword: password, passwordFile };
}

import { Command } from 'commander';
import { print, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

/** `portcullis keys rotate|list`: the token-signing keys. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('token-signing keys');

  withStoreOptions(keys.command('rotate'))
    .description('sign new tokens with a new key; the old key keeps verifying until its tokens have expired')
    .action(async (options: StoreOptions) => {
      const rotated = await withAdmin(options, (admin) => admin.credentials.rotateKeys());
      print(`new signing key ${rotated.kid}; earlier keys verify until ${new Date(rotated.earlierVerifyUntil).toISOString()}`);
      for (const kid of rotated.pruned) print(`removed expired key ${kid}`);
    });

  withStoreOptions(keys.command('list'))
    .description('list signing keys: kid, created, retired')
    .action(async (options: StoreOptions) => {
      for (const k of await withAdmin(options, (admin) => admin.credentials.keys())) {
        const retired = k.retiredAt === null ? 'signing' : `retired ${new Date(k.retiredAt).toISOString()}`;
        print(`${k.kid}\t${new Date(k.createdAt).toISOString()}\t${retired}`);
      }
    });

  return keys;
}

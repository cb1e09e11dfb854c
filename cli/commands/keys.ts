import { Command } from 'commander';
import { generateSigningKey } from '../../src/identity/keys.js';
import { TOKEN_LEEWAY_SECONDS } from '../../src/identity/tokens.js';
import { configFrom, print, withStore, withStoreOptions, type StoreOptions } from '../context.js';

/** `portcullis keys rotate|list`: the token-signing keys. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('token-signing keys');

  withStoreOptions(keys.command('rotate'))
    .description('sign new tokens with a new key; the old key keeps verifying until its tokens have expired')
    .action(async (options: StoreOptions) => {
      const config = configFrom(options);
      const overlapMs = (config.auth.tokenTtl + TOKEN_LEEWAY_SECONDS) * 1000;
      const now = Date.now();
      const key = await generateSigningKey(now);
      const pruned = await withStore(options, async (store) => {
        await store.keys.rotate(key, now);
        return store.keys.prune(now - overlapMs);
      });
      print(`new signing key ${key.kid}; earlier keys verify until ${new Date(now + overlapMs).toISOString()}`);
      for (const kid of pruned) print(`removed expired key ${kid}`);
    });

  withStoreOptions(keys.command('list'))
    .description('list signing keys: kid, created, retired')
    .action(async (options: StoreOptions) => {
      const rows = await withStore(options, (store) => store.principals.signingKeys());
      for (const k of rows) {
        const retired = k.retiredAt === null ? 'signing' : `retired ${new Date(k.retiredAt).toISOString()}`;
        print(`${k.kid}\t${new Date(k.createdAt).toISOString()}\t${retired}`);
      }
    });

  return keys;
}

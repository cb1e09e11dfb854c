import path from 'node:path';
import type { Command } from 'commander';
import { hostname, userInfo } from 'node:os';
import { Admin, AdminError } from '../src/admin/index.js';
import { linkHash } from '../src/audit/chain.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { openMetadataStore, type MetadataStore } from '../src/storage/metadata/index.js';

export interface StoreOptions {
  config?: string;
  dataDir?: string;
  listen?: string;
}

/** Adds the options every command shares: where the configuration and the data live. */
export function withStoreOptions(command: Command): Command {
  return command
    .option('--config <file>', 'YAML configuration file (env PORTCULLIS_CONFIG)')
    .option('--data-dir <dir>', 'data directory (env PORTCULLIS_DATA_DIR; default ./data)');
}

export function configFrom(options: StoreOptions): Config {
  return loadConfig({
    file: options.config ?? (process.env.PORTCULLIS_CONFIG || undefined),
    overrides: {
      dataDir: options.dataDir ? path.resolve(options.dataDir) : undefined,
      listen: options.listen,
    },
  });
}

/** Opens the store the server uses, runs `work`, and closes it again. */
export async function withStore<T>(options: StoreOptions, work: (store: MetadataStore) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const store = await openMetadataStore(config.database, config.dataDir);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * Runs `work` with the administrative operations over the server's store, and records the
 * command in the audit log (whether it succeeded or why not). Secrets never reach the command
 * line (passwords come on standard input, secrets are generated), so it is recorded as typed.
 */
export async function withAdmin<T>(options: StoreOptions, work: (admin: Admin) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const store = await openMetadataStore(config.database, config.dataDir);
  const record = (outcome: string, reason: string | null) =>
    store.audit.append(
      [
        {
          at: Date.now(),
          node: hostname(),
          requestId: null,
          action: 'admin.cli',
          outcome,
          reason,
          principal: null,
          credential: `cli:${userInfo().username}`,
          tokenId: null,
          federated: null,
          address: null,
          userAgent: null,
          repository: null,
          reference: ['portcullis', ...process.argv.slice(2)].join(' ').slice(0, 1000),
          digest: null,
          bytes: null,
        },
      ],
      linkHash,
    );
  try {
    const result = await work(new Admin(store, config));
    await record('allowed', null);
    return result;
  } catch (err) {
    if (err instanceof AdminError) await record('failed', err.message).catch(() => undefined);
    throw err;
  } finally {
    await store.close();
  }
}

/** Reads a secret from standard input (first line, without its newline). */
export async function readStdinLine(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of process.stdin) parts.push(part as Buffer);

  return Buffer.concat(parts).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
}

/** A failure the user caused: printed as one line, exit status 1, no stack. */
export class UsageError extends Error {}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

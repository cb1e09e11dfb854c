import path from 'node:path';
import type { Command } from 'commander';
import { Admin } from '../src/admin/index.js';
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

/** Runs `work` with the administrative operations over the server's store. */
export async function withAdmin<T>(options: StoreOptions, work: (admin: Admin) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const store = await openMetadataStore(config.database, config.dataDir);
  try {
    return await work(new Admin(store, config));
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

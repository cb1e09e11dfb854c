import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startServer, type Running } from '../../src/main.js';
import { createTestDatabase } from './postgres.js';

export interface TestRegistry {
  url: string;
  dataDir: string;
  adminPassword: string;
  config: Config;
  running: Running;
  /** Stops the server and starts it again on the same data (and port). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** 'sqlite' (default) or 'postgres' (a fresh database on the test server). */
  engine?: 'sqlite' | 'postgres';
  /** Extra configuration keys, e.g. `{ 'uploads.expireAfter': 1 }`. */
  overrides?: Record<string, string | undefined>;
  env?: Record<string, string>;
  /** A YAML configuration file, for settings that are not plain values (lists of issuers…). */
  configFile?: string;
}

/** Starts a real Portcullis server in this process, on a free loopback port, on fresh data. */
export async function startRegistry(options: StartOptions = {}): Promise<TestRegistry> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'portcullis-test-'));
  const adminPassword = `pw-${randomBytes(12).toString('hex')}`;
  const database = options.engine === 'postgres' ? await createTestDatabase() : undefined;
  const env = { PORTCULLIS_ADMIN_PASSWORD: adminPassword, ...options.env };
  const build = (listen: string) =>
    loadConfig({
      file: options.configFile,
      env: Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('PORTCULLIS_') && k !== 'PORTCULLIS_ADMIN_PASSWORD')),
      overrides: { dataDir, listen, database: database?.url, 'log.level': 'silent', ...options.overrides },
    });
  let config = build('127.0.0.1:0');
  const logger = pino({ level: 'silent' });
  let running = await startServer(config, logger, env);
  const port = new URL(running.address).port;
  config = build(`127.0.0.1:${port}`);

  return {
    url: running.address,
    dataDir,
    adminPassword,
    config,
    get running() {
      return running;
    },
    async restart() {
      await running.close();
      running = await startServer(config, logger, env);
    },
    async close() {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../../src/config/load.js';
import { startServer } from '../../../src/main.js';
import type { TestRegistry } from '../../helpers/registry.js';

export interface LoggedRegistry extends TestRegistry {
  /** Everything the server logged so far, one JSON line per entry. */
  logText(): string;
}

/**
 * Starts a registry like `startRegistry()` does, but with a pino logger at `trace` level that
 * writes into memory, so a test can read every line the server logged.
 */
export async function startLoggedRegistry(options: { configFile?: string } = {}): Promise<LoggedRegistry> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'portcullis-auth-log-'));
  const adminPassword = `pw-${randomBytes(12).toString('hex')}`;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = pino({ level: 'trace' }, sink);
  const config = loadConfig({
    file: options.configFile,
    env: {},
    overrides: { dataDir, listen: '127.0.0.1:0', 'log.level': 'trace' },
  });
  const running = await startServer(config, logger, { PORTCULLIS_ADMIN_PASSWORD: adminPassword });

  return {
    url: running.address,
    dataDir,
    adminPassword,
    config,
    running,
    restart: () => Promise.reject(new Error('not supported')),
    async close() {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
    logText: () => lines.join(''),
  };
}

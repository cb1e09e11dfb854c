import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { maskSecrets, registerSecret } from './run.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

/** The repository root (three levels above this file). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The command under test; PORTCULLIS_INTEROP_BIN points the tests at another build of it. */
export const PORTCULLIS_BIN =
  process.env.PORTCULLIS_INTEROP_BIN ?? join(REPO_ROOT, 'bin', 'portcullis.js');

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const LOG_LIMIT = 64 * 1024;

/** A Portcullis process serving on loopback (plain HTTP unless configured for TLS), with its own data directory. */
export interface PortcullisServer {
  /** `127.0.0.1:<port>`, the registry host as clients write it. */
  host: string;
  url: string;
  dataDir: string;
  adminUser: 'admin';
  adminPassword: string;
  pid: number;
  /** The server's stdout and stderr so far (last 64 KiB, secrets masked). */
  logs(): string;
  stop(): Promise<void>;
}

async function findFreePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === 'string') throw new Error('no port from probe');

  return address.port;
}

function collectOutput(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-LOG_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  return () => maskSecrets(text);
}

/** True when GET /healthz answers 200; over TLS trusting only `ca`. */
async function isHealthy(url: string, ca?: string): Promise<boolean> {
  if (ca !== undefined) {
    return new Promise((resolve) => {
      const req = httpsGet(`${url}/healthz`, { ca, agent: false, timeout: 1_000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
  }
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();

    return response.status === 200;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(pid, 'SIGTERM');
  const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts `portcullis serve` on a free loopback port with a fresh data directory and a random
 * admin password, and waits until GET /healthz answers 200 (over TLS when `tlsCa` is given).
 */
export interface StartOptions {
  /** A YAML configuration file for `serve --config`. */
  configFile?: string;
  /** The PEM CA that signed the server's certificate, when the configuration turns TLS on. */
  tlsCa?: string;
}

export async function startPortcullis(options: StartOptions = {}): Promise<PortcullisServer> {
  if (!existsSync(PORTCULLIS_BIN)) {
    throw new Error(`${PORTCULLIS_BIN} does not exist; build Portcullis first (npm run build)`);
  }

  const dataDir = await makeTempDir('data');
  const adminPassword = randomBytes(18).toString('base64url');
  registerSecret(adminPassword);
  const port = await findFreePort();
  const host = `127.0.0.1:${port}`;
  const url = `${options.tlsCa === undefined ? 'http' : 'https'}://${host}`;

  const child = spawn(
    process.execPath,
    [PORTCULLIS_BIN, 'serve', '--listen', host, '--data-dir', dataDir, ...(options.configFile ? ['--config', options.configFile] : [])],
    {
      cwd: dataDir,
      env: { ...process.env, PORTCULLIS_ADMIN_PASSWORD: adminPassword },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs = collectOutput(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${PORTCULLIS_BIN}`);

  const stop = async (): Promise<void> => {
    await stopChild(child, pid);
    await removeTempDir(dataDir);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await isHealthy(url, options.tlsCa))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await removeTempDir(dataDir);
      throw new Error(
        `portcullis serve exited (code ${String(child.exitCode)}, ` +
          `signal ${String(child.signalCode)}) before ${url}/healthz answered 200; ` +
          `its output:\n${logs()}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `portcullis serve did not answer 200 on ${url}/healthz within ${READY_TIMEOUT_MS} ms; ` +
          `its output:\n${logs()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return { host, url, dataDir, adminUser: 'admin', adminPassword, pid, logs, stop };
}

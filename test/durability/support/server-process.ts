import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { PORTCULLIS_BIN, REPO_ROOT, requireBuild } from '../../cli/support/built.js';
import { rawRequest } from './http.js';

const READY_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 256 * 1024;

export interface ServerOptions {
  /** Extra environment (PORTCULLIS_* and others); PORTCULLIS_* from the test's own env are dropped. */
  env?: Record<string, string | undefined>;
  /** Reuse a data directory instead of making a fresh one. */
  dataDir?: string;
  /** Extra arguments after `serve`. */
  args?: string[];
  /** Scheme the server answers on (https when TLS is configured). */
  scheme?: 'http' | 'https';
  /** Certificate to trust when polling an https server for health. */
  ca?: string | Buffer;
  /** Leave PORTCULLIS_ADMIN_PASSWORD unset, so the first start generates one. */
  generatedAdminPassword?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `portcullis serve` process on a loopback port, restartable on the same data and port. */
export interface ServerProcess {
  url: string;
  host: string;
  port: number;
  dataDir: string;
  /** Where the filesystem driver keeps blobs and uploads (see src/storage/blobs/paths.ts). */
  blobRoot: string;
  adminPassword: string;
  /** The current process id. */
  readonly pid: number;
  /** stdout and stderr of every start so far (the last 256 KiB). */
  output(): string;
  /** What each start wrote, separately: one entry per start, oldest first. */
  runs(): Array<{ stdout: string; stderr: string }>;
  /** Sends `signal` and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  /** Starts the server again on the same data directory and port; waits until it is healthy. */
  start(): Promise<void>;
  /** Stops it if running and removes the data directory (when the harness made it). */
  dispose(): Promise<void>;
}

/** A free loopback TCP port (there is a small window in which another process could take it). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === 'string') throw new Error('no port from the probe');

  return address.port;
}

/** The environment of a child: the test's own, minus any PORTCULLIS_* it happened to carry. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PORTCULLIS_') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }

  return env;
}

/** Starts `node bin/portcullis.js serve` and waits until GET /healthz answers 200. */
export async function startServerProcess(options: ServerOptions = {}): Promise<ServerProcess> {
  requireBuild();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'portcullis-durable-')));
  const adminPassword = options.generatedAdminPassword
    ? ''
    : `pw-${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const url = `${options.scheme ?? 'http'}://${host}`;
  let text = '';
  const runs: Array<{ stdout: string; stderr: string }> = [];
  let child: ChildProcess | undefined;

  const start = async () => {
    const env = childEnv({
      PORTCULLIS_ADMIN_PASSWORD: options.generatedAdminPassword ? undefined : adminPassword,
      ...options.env,
    });
    const args = [
      PORTCULLIS_BIN,
      'serve',
      '--listen',
      host,
      '--data-dir',
      dataDir,
      ...(options.args ?? []),
    ];
    const started = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const run = { stdout: '', stderr: '' };
    runs.push(run);
    const append = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      text = (text + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
      run[stream] = (run[stream] + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    started.stdout!.on('data', append('stdout'));
    started.stderr!.on('data', append('stderr'));
    await waitHealthy(url, started, () => text, options.ca);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) {
      return { code: running?.exitCode ?? null, signal: running?.signalCode ?? null };
    }
    const exited = once(running, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    running.kill(signal);
    const [code, sig] = await exited;

    return { code, signal: sig };
  };

  try {
    await start();
  } catch (err) {
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  // Resolved the way `serve` resolves it, so the tests follow the product's default layout.
  const blobRoot = loadConfig({
    env: {},
    overrides: { dataDir, 'blobs.path': options.env?.PORTCULLIS_BLOBS_PATH },
  }).blobs.path!;

  return {
    url,
    host,
    port,
    dataDir,
    blobRoot,
    adminPassword,
    get pid() {
      if (child?.pid === undefined) throw new Error('the server is not running');
      return child.pid;
    },
    output: () => text,
    runs: () => runs,
    stop,
    start,
    dispose: async () => {
      const running = child;
      if (running && running.exitCode === null && running.signalCode === null) {
        const exited = once(running, 'exit');
        running.kill('SIGTERM');
        const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitHealthy(
  url: string,
  child: ChildProcess,
  output: () => string,
  ca: string | Buffer | undefined,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `portcullis serve exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)}) ` +
          `before ${url}/healthz answered; its output:\n${output()}`,
      );
    }
    if (await healthy(url, ca)) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `portcullis serve did not become healthy at ${url}; its output:\n${output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function healthy(url: string, ca: string | Buffer | undefined): Promise<boolean> {
  try {
    const res = await rawRequest(`${url}/healthz`, { ca, signal: AbortSignal.timeout(1_000) });

    return res.status === 200;
  } catch {
    return false;
  }
}

/** The resident set size of a process in bytes, from /proc/<pid>/status. */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`);

  return Number(match[1]) * 1024;
}

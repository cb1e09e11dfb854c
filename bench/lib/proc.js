// Process and temp-dir bookkeeping for the benchmark: everything started here is
// tracked by PID and torn down on normal exit, on error and on SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const children = new Set(); // ChildProcess objects we started
const tempDirs = new Set();

export function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `portcullis-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  if (!tempDirs.has(dir)) return;
  tempDirs.delete(dir);
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
}

/** Ask the kernel for a free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawn a tracked child whose stdout/stderr go to logFile.
 * Returns the ChildProcess; `child.exited` is a promise of {code, signal}.
 */
export function spawnTracked(cmd, args, { env, cwd, logFile }) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => { children.delete(child); resolve({ code, signal }); });
    child.on('error', (err) => { children.delete(child); resolve({ code: -1, signal: null, err }); });
  });
  return child;
}

/** Stop one child we started: SIGTERM by PID, SIGKILL after a grace period. */
export async function stopChild(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(child.pid, 'SIGTERM'); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Synchronous last-resort cleanup (process 'exit' handler cannot await). */
function cleanupSync() {
  for (const child of children) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

export async function cleanupAll() {
  await Promise.all([...children].map((c) => stopChild(c, 3000)));
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

let installed = false;
export function installCleanupHandlers() {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig} received, stopping servers and removing temp dirs\n`);
      cleanupSync();
      process.exit(130);
    });
  }
}

/** Poll `check` (async, returns truthy when ready) until it succeeds, the child dies, or timeout. */
export async function waitUntil(check, { child, timeoutMs = 30000, what = 'server', logFile } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited early (code ${child.exitCode}, signal ${child.signalCode})${logTail(logFile)}`);
    }
    try {
      if (await check()) return;
    } catch (err) { lastErr = err; }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${lastErr ? ` (last error: ${lastErr.message})` : ''}${logTail(logFile)}`);
}

export function logTail(logFile, lines = 30) {
  if (!logFile) return '';
  try {
    const text = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return text ? `\n--- last lines of ${logFile} ---\n${text}` : '';
  } catch { return ''; }
}

export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`))));
  });
}

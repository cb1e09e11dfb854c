// Starts Portcullis for the benchmark: `node bin/portcullis.js serve` on a free loopback
// port with a fresh data dir and a generated admin password; ready when /healthz is 200.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, makeTempDir, removeTempDir, run, spawnTracked, stopChild, waitUntil } from './lib/proc.js';
import { rawRequest } from './lib/http.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PORTCULLIS_BIN = process.env.BENCH_PORTCULLIS_BIN || path.join(REPO_ROOT, 'bin', 'portcullis.js');

/** Which Portcullis is being measured: the checked-out commit and when dist/ was built. */
async function buildInfo() {
  let commit = null;
  try { commit = (await run('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'])).trim(); } catch { /* no git */ }
  let distBuiltAt = null;
  try { distBuiltAt = fs.statSync(path.join(REPO_ROOT, 'dist')).mtime.toISOString(); } catch { /* not built */ }
  for (const f of ['dist/src/main.js', 'dist/cli/main.js']) {
    try {
      const t = fs.statSync(path.join(REPO_ROOT, f)).mtime.toISOString();
      if (!distBuiltAt || t > distBuiltAt) distBuiltAt = t;
    } catch { /* absent */ }
  }
  return { commit, distBuiltAt };
}

export async function startPortcullis() {
  if (!fs.existsSync(PORTCULLIS_BIN)) {
    throw new Error(`${PORTCULLIS_BIN} does not exist yet (is Portcullis built? run \`npm run build\`)`);
  }
  const dir = makeTempDir('portcullis');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  const password = crypto.randomBytes(16).toString('base64url');
  const port = await freePort();
  const logFile = path.join(dir, 'portcullis.log');
  const child = spawnTracked(process.execPath, [PORTCULLIS_BIN, 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    env: { ...process.env, PORTCULLIS_ADMIN_PASSWORD: password },
    cwd: dir,
    logFile,
  });
  const stop = async () => {
    await stopChild(child);
    removeTempDir(dir);
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(async () => (await rawRequest('GET', `${url}/healthz`)).status === 200,
      { child, what: 'portcullis', logFile, timeoutMs: 30000 });
  } catch (err) {
    await stop();
    throw err;
  }
  const build = await buildInfo();
  return { name: 'portcullis', url, user: 'admin', password, pid: child.pid, pids: [child.pid], dataDir: dir, logFile, stop, build };
}

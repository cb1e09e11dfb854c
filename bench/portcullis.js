// Starts Portcullis for the benchmark: `node bin/portcullis.js serve` on a free loopback
// port with a fresh data dir and a generated admin password; ready when /healthz is 200.
// Optionally with a YAML config file (`--config`) and extra Node flags such as --cpu-prof.
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

/**
 * @param {object} [options]
 * @param {string} [options.configYaml] written to portcullis.yaml in the temp dir and passed with --config
 * @param {string[]} [options.nodeArgs] flags for the Node process, placed before the script
 */
export async function startPortcullis({ configYaml, nodeArgs = [] } = {}) {
  if (!fs.existsSync(PORTCULLIS_BIN)) {
    throw new Error(`${PORTCULLIS_BIN} does not exist yet (is Portcullis built? run \`npm run build\`)`);
  }
  const dir = makeTempDir('portcullis');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  const password = crypto.randomBytes(16).toString('base64url');
  const port = await freePort();
  const logFile = path.join(dir, 'portcullis.log');
  const args = [...nodeArgs, PORTCULLIS_BIN, 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir];
  let configFile = null;
  if (configYaml !== undefined) {
    configFile = path.join(dir, 'portcullis.yaml');
    fs.writeFileSync(configFile, configYaml);
    args.push('--config', configFile);
  }
  const child = spawnTracked(process.execPath, args, {
    env: { ...process.env, PORTCULLIS_ADMIN_PASSWORD: password },
    cwd: dir,
    logFile,
  });
  // halt() stops the process but keeps its data, for the CLI to read; stop() also removes it.
  const halt = () => stopChild(child);
  const stop = async () => {
    await halt();
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
  return {
    name: 'portcullis', url, user: 'admin', password, pid: child.pid, pids: [child.pid], dataDir: dir,
    storeDir: dataDir, configFile, logFile, halt, stop, build,
  };
}

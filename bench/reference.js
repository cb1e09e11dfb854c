// Starts the reference registry: Debian's docker-registry (CNCF distribution 2.8.2) on
// loopback, behind bearer-token auth served by bench/token-issuer.js, both as child
// processes of the bench. Everything lives in one temp dir removed by stop().
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort, makeTempDir, removeTempDir, run, spawnTracked, stopChild, waitUntil,
} from './lib/proc.js';
import { rawRequest } from './lib/http.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REGISTRY_BIN = process.env.BENCH_DOCKER_REGISTRY || '/usr/bin/docker-registry';
const SERVICE = 'portcullis-bench-reference';
const ISSUER = 'portcullis-bench-issuer';

async function makeCert(dir) {
  try {
    await run('openssl', ['version']);
  } catch (err) {
    throw new Error(`the openssl command line is required to create the issuer certificate: ${err.message}`);
  }
  const key = path.join(dir, 'issuer-key.pem');
  const cert = path.join(dir, 'issuer-cert.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=portcullis-bench-issuer',
  ]);
  return { key, cert };
}

function configYaml({ dir, port, issuerPort, cert }) {
  // No blob-descriptor cache, no redirects, no upload purging: plain filesystem storage.
  return `version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'storage')}
  delete:
    enabled: true
  redirect:
    disable: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: ${crypto.randomBytes(24).toString('hex')}
auth:
  token:
    realm: http://127.0.0.1:${issuerPort}/token
    service: ${SERVICE}
    issuer: ${ISSUER}
    rootcertbundle: ${cert}
`;
}

/** Start issuer + docker-registry; resolves to a target description with stop(). */
export async function startReference({ x5c = process.env.BENCH_ISSUER_X5C === '1' } = {}) {
  if (!fs.existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} not found (set BENCH_DOCKER_REGISTRY)`);
  const dir = makeTempDir('reference');
  const user = 'bench';
  const password = crypto.randomBytes(12).toString('hex');
  let issuerProc;
  let registryProc;
  const stop = async () => {
    await stopChild(registryProc);
    await stopChild(issuerProc);
    removeTempDir(dir);
  };
  try {
    const { key, cert } = await makeCert(dir);
    const issuerPort = await freePort();
    const issuerLog = path.join(dir, 'issuer.log');
    const issuerArgs = [path.join(HERE, 'token-issuer.js'), '--port', String(issuerPort), '--key', key,
      '--cert', cert, '--user', user, '--service', SERVICE, '--issuer', ISSUER];
    if (x5c) issuerArgs.push('--x5c');
    issuerProc = spawnTracked(process.execPath, issuerArgs, { env: { ...process.env, BENCH_ISSUER_PASSWORD: password }, logFile: issuerLog });
    await waitUntil(async () => (await rawRequest('GET', `http://127.0.0.1:${issuerPort}/token`)).status === 401,
      { child: issuerProc, what: 'token issuer', logFile: issuerLog, timeoutMs: 10000 });

    const port = await freePort();
    const configFile = path.join(dir, 'config.yml');
    fs.writeFileSync(configFile, configYaml({ dir, port, issuerPort, cert }));
    const logFile = path.join(dir, 'registry.log');
    registryProc = spawnTracked(REGISTRY_BIN, ['serve', configFile], {
      env: { PATH: process.env.PATH, HOME: dir }, cwd: dir, logFile,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await rawRequest('GET', `${url}/v2/`)).status === 401,
      { child: registryProc, what: 'docker-registry', logFile, timeoutMs: 20000 });
    let version = null;
    try { version = (await run(REGISTRY_BIN, ['--version'])).trim(); } catch { /* unknown */ }
    return {
      build: { version },
      name: 'docker-registry', url, user, password, pid: registryProc.pid, pids: [registryProc.pid, issuerProc.pid], dataDir: dir, logFile, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// `node bench/reference.js` keeps the reference registry running for manual use or for
// `run.js --url` (prints URL, credentials and PID; Ctrl-C stops and cleans up).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { installCleanupHandlers } = await import('./lib/proc.js');
  installCleanupHandlers();
  const t = await startReference();
  process.stdout.write(`${JSON.stringify({ url: t.url, user: t.user, password: t.password, pid: t.pid, log: t.logFile })}\n`);
  setInterval(() => {}, 1 << 30);
}

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../durability/support/http.js';
import {
  freePort,
  startServerProcess,
  type ServerProcess,
} from '../durability/support/server-process.js';
import { Session, sha256 } from '../durability/support/session.js';
import { runCli } from './support/run-cli.js';

describe('portcullis serve: refusing plain HTTP off loopback', () => {
  let dir: string;
  let port: number;
  let holder: Server;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-listen-'));
    // Hold the port on loopback: were serve to try binding 0.0.0.0:<port>, it would get
    // EADDRINUSE instead of the refusal, so the refusal proves it never tried.
    port = await freePort();
    holder = createServer();
    holder.listen(port, '127.0.0.1');
    await once(holder, 'listening');
  });
  afterAll(async () => {
    holder.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses 0.0.0.0 without TLS or trusted proxies, before touching data or binding', async () => {
    const dataDir = path.join(dir, 'wildcard');
    const res = await runCli(['serve', '--listen', `0.0.0.0:${port}`, '--data-dir', dataDir], {
      env: { PORTCULLIS_ADMIN_PASSWORD: 'a-long-admin-password' },
      timeoutMs: 20_000,
    });

    expect(res.timedOut).toBeUndefined();
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`refusing plain HTTP on 0.0.0.0:${port}`);
    expect(res.stderr).toMatch(/tls\.cert and tls\.key/);
    expect(res.stderr).toMatch(/trustedProxies/);
    expect(res.stderr).not.toMatch(/EADDRINUSE|already in use/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses the IPv6 wildcard too', async () => {
    const dataDir = path.join(dir, 'wildcard6');
    const res = await runCli(['serve', '--listen', `[::]:${port}`, '--data-dir', dataDir], {
      env: { PORTCULLIS_ADMIN_PASSWORD: 'a-long-admin-password' },
      timeoutMs: 20_000,
    });

    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`refusing plain HTTP on [::]:${port}`);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('portcullis serve with a TLS certificate and key', () => {
  let dir: string;
  let cert: Buffer;
  let server: ServerProcess;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    cert = await readFile(path.join(dir, 'cert.pem'));
    server = await startServerProcess({
      scheme: 'https',
      ca: cert,
      env: {
        PORTCULLIS_TLS_CERT: path.join(dir, 'cert.pem'),
        PORTCULLIS_TLS_KEY: path.join(dir, 'key.pem'),
      },
    });
  });
  afterAll(async () => {
    await server?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers over https: health, the challenge realm, tokens and a push', async () => {
    expect((await rawRequest(`${server.url}/healthz`, { ca: cert })).status).toBe(200);

    const challenge = await rawRequest(`${server.url}/v2/`, { ca: cert });
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toContain(`realm="https://${server.host}/token"`);

    const session = new Session(server.url, 'admin', server.adminPassword, cert);
    const blob = Buffer.from('over tls');
    expect((await session.pushMonolithic('tls/app', blob, sha256(blob), blob.length)).status).toBe(
      201,
    );
    expect((await session.blobDigest('tls/app', sha256(blob))).digest).toBe(sha256(blob));
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const plain = rawRequest(`http://${server.host}/healthz`).then(
      (res) => res.status,
      () => 'refused',
    );

    expect(await plain).not.toBe(200);
  });

  it('an unreadable certificate stops the start with a message naming the file', async () => {
    const missing = path.join(dir, 'missing-cert.pem');
    const res = await runCli(
      ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'data')],
      {
        env: {
          PORTCULLIS_ADMIN_PASSWORD: 'a-long-admin-password',
          PORTCULLIS_TLS_CERT: missing,
          PORTCULLIS_TLS_KEY: path.join(dir, 'key.pem'),
        },
        timeoutMs: 20_000,
      },
    );

    expect(res.timedOut).toBeUndefined();
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(missing);
  });
});

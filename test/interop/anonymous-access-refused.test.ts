import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildImageWithUmoci, type BuiltImage } from './support/build-image.js';
import {
  CLIENT_TIMEOUT_MS,
  credsArg,
  inspectRaw,
  skopeo,
  skopeoFailing,
  type Credentials,
} from './support/clients.js';
import { createContainersEnv, type ContainersEnv } from './support/containers-env.js';
import { requireTools } from './support/require-tool.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

// What skopeo (containers/image) prints for a 401 from /v2/... or from the token endpoint.
const UNAUTHORIZED = /unauthorized|authentication required|invalid username\/password|\b401\b/i;

describe('Portcullis refuses clients without valid credentials', () => {
  let work: string | undefined;
  let server: PortcullisServer | undefined;
  let cenv: ContainersEnv;
  let image: BuiltImage;
  let admin: Credentials;

  const repo = (path: string): string => `docker://${server?.host ?? ''}/${path}`;

  beforeAll(async () => {
    requireTools('skopeo', 'umoci', 'busybox');
    work = await makeTempDir('anonymous');
    cenv = await createContainersEnv(join(work, 'containers'));
    image = await buildImageWithUmoci(join(work, 'image'));
    server = await startPortcullis();
    admin = { user: server.adminUser, password: server.adminPassword };

    // The repository exists, so a refusal below cannot be a plain "not found".
    await skopeo(cenv, [
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      credsArg(admin),
      image.ref,
      repo('team/private:v1'),
    ]);
    const stored = await inspectRaw(cenv, repo('team/private:v1'), admin);
    expect(stored.equals(image.manifestBytes)).toBe(true);
  }, CLIENT_TIMEOUT_MS);

  printServerLogsOnFailure(() => server);

  afterAll(async () => {
    await server?.stop();
    await removeTempDir(work);
  });

  it('answers an anonymous GET /v2/ with 401 and a Bearer challenge', async () => {
    const response = await fetch(`${server?.url ?? ''}/v2/`);
    await response.body?.cancel();

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer realm="[^"]+"/);
  });

  it('refuses skopeo inspect without credentials', async () => {
    const result = await skopeoFailing(cenv, [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--no-creds',
      repo('team/private:v1'),
    ]);

    expect(result.output).toMatch(UNAUTHORIZED);
    expect(result.stdout).not.toContain(image.configDigest);
  }, CLIENT_TIMEOUT_MS);

  it('refuses skopeo list-tags without credentials', async () => {
    const result = await skopeoFailing(cenv, [
      'list-tags',
      '--tls-verify=false',
      '--no-creds',
      repo('team/private'),
    ]);

    expect(result.output).toMatch(UNAUTHORIZED);
    expect(result.stdout).not.toContain('v1');
  }, CLIENT_TIMEOUT_MS);

  it('refuses an anonymous push', async () => {
    const result = await skopeoFailing(cenv, [
      'copy',
      '--dest-tls-verify=false',
      '--dest-no-creds',
      image.ref,
      repo('team/anonymous:v1'),
    ]);

    expect(result.output).toMatch(UNAUTHORIZED);
  }, CLIENT_TIMEOUT_MS);

  it('refuses the admin user with a wrong password', async () => {
    const result = await skopeoFailing(cenv, [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      `${admin.user}:wrong-${admin.password}`,
      repo('team/private:v1'),
    ]);

    expect(result.output).toMatch(UNAUTHORIZED);
    expect(result.stdout).not.toContain(image.configDigest);
  }, CLIENT_TIMEOUT_MS);

  it('refuses a user name that does not exist', async () => {
    const result = await skopeoFailing(cenv, [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      'nobody-here:some-password',
      repo('team/private:v1'),
    ]);

    expect(result.output).toMatch(UNAUTHORIZED);
  }, CLIENT_TIMEOUT_MS);
});

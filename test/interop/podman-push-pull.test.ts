import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildImageWithUmoci, type BuiltImage } from './support/build-image.js';
import {
  CLIENT_TIMEOUT_MS,
  credsArg,
  inspectRaw,
  podman,
  podmanFailing,
  skopeo,
  type Credentials,
} from './support/clients.js';
import { createContainersEnv, type ContainersEnv } from './support/containers-env.js';
import { sha256Digest } from './support/oci-layout.js';
import { requireTools } from './support/require-tool.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

interface PodmanImage {
  Id: string;
  Digest: string;
  RootFS: { Layers: string[] };
  Config: { Entrypoint?: string[]; Cmd?: string[] };
}

const SOURCE_NAME = 'localhost/portcullis-interop/source:v1';

describe('podman push, pull and login against Portcullis', () => {
  let work = '';
  let server: PortcullisServer | undefined;
  let source: ContainersEnv;
  let image: BuiltImage;
  let imageId: string;
  let admin: Credentials;

  const tlsOff = '--tls-verify=false';

  /** A fresh, empty podman storage: pulls into it must come from the registry. */
  const freshStorage = async (name: string): Promise<ContainersEnv> =>
    createContainersEnv(join(work, name));

  const loginArgs = (authFile: string): string[] => [
    'login',
    '--authfile',
    authFile,
    tlsOff,
    '--username',
    admin.user,
    '--password-stdin',
    server?.host ?? '',
  ];

  const inspectImage = async (cenv: ContainersEnv, ref: string): Promise<PodmanImage> => {
    const result = await podman(cenv, ['image', 'inspect', ref]);
    const [info] = JSON.parse(result.stdout) as PodmanImage[];
    if (info === undefined) throw new Error(`podman image inspect ${ref} printed no image`);

    return info;
  };

  const expectSameImage = (pulled: PodmanImage, pushedDigest: string): void => {
    expect(pulled.Digest).toBe(pushedDigest);
    expect(`sha256:${pulled.Id}`).toBe(image.configDigest);
    expect(pulled.RootFS.Layers).toEqual(image.diffIds);
    expect(pulled.Config.Entrypoint).toEqual(['/bin/busybox']);
  };

  beforeAll(async () => {
    requireTools('podman', 'skopeo', 'umoci', 'busybox');
    work = await makeTempDir('podman');
    image = await buildImageWithUmoci(join(work, 'image'));
    source = await createContainersEnv(join(work, 'source'));
    server = await startPortcullis();
    admin = { user: server.adminUser, password: server.adminPassword };

    // podman would name an oci: image after its (mixed-case, so invalid) temp path; skopeo
    // writes it into the same storage under a proper name instead.
    await skopeo(source, ['copy', image.ref, `containers-storage:${SOURCE_NAME}`]);
    imageId = (await inspectImage(source, SOURCE_NAME)).Id;
  }, CLIENT_TIMEOUT_MS);

  printServerLogsOnFailure(() => server);

  afterAll(async () => {
    await server?.stop();
    await removeTempDir(work);
  });

  it('pushes with --creds and pulls the same image into fresh storage', async () => {
    const target = `${server?.host ?? ''}/team/podman:v1`;
    const digestFile = join(work, 'creds.digest');
    await podman(source, [
      'push',
      '--signature-policy',
      source.policyPath,
      tlsOff,
      '--creds',
      credsArg(admin),
      '--digestfile',
      digestFile,
      imageId,
      target,
    ]);
    const pushedDigest = (await readFile(digestFile, 'utf8')).trim();

    const served = await inspectRaw(source, `docker://${target}`, admin);
    expect(sha256Digest(served)).toBe(pushedDigest);

    const fresh = await freshStorage('pull-creds');
    await podman(fresh, [
      'pull',
      '--signature-policy',
      fresh.policyPath,
      tlsOff,
      '--creds',
      credsArg(admin),
      target,
    ]);
    expectSameImage(await inspectImage(fresh, target), pushedDigest);
  }, CLIENT_TIMEOUT_MS);

  it('logs in with --password-stdin, then pushes and pulls without --creds', async () => {
    const target = `${server?.host ?? ''}/team/podman-login:v1`;
    const authFile = join(work, 'login-auth.json');
    const digestFile = join(work, 'login.digest');

    const login = await podman(source, loginArgs(authFile), `${admin.password}\n`);
    expect(login.stdout).toMatch(/Login Succeeded/);
    const saved = JSON.parse(await readFile(authFile, 'utf8')) as { auths: object };
    expect(Object.keys(saved.auths)).toContain(server?.host);

    await podman(source, [
      'push',
      '--signature-policy',
      source.policyPath,
      tlsOff,
      '--authfile',
      authFile,
      '--digestfile',
      digestFile,
      imageId,
      target,
    ]);
    const pushedDigest = (await readFile(digestFile, 'utf8')).trim();

    const fresh = await freshStorage('pull-login');
    await podman(fresh, [
      'pull',
      '--signature-policy',
      fresh.policyPath,
      tlsOff,
      '--authfile',
      authFile,
      target,
    ]);
    expectSameImage(await inspectImage(fresh, target), pushedDigest);
  }, CLIENT_TIMEOUT_MS);

  it('cannot pull any more after podman logout', async () => {
    const target = `${server?.host ?? ''}/team/podman-login:v1`;
    const authFile = join(work, 'logout-auth.json');
    await podman(source, loginArgs(authFile), `${admin.password}\n`);

    await podman(source, ['logout', '--authfile', authFile, server?.host ?? '']);

    const fresh = await freshStorage('pull-logout');
    const result = await podmanFailing(fresh, [
      'pull',
      '--signature-policy',
      fresh.policyPath,
      tlsOff,
      '--authfile',
      authFile,
      target,
    ]);
    expect(result.output).toMatch(/unauthorized|authentication required|\b401\b/i);
  }, CLIENT_TIMEOUT_MS);

  it('rejects podman login with a wrong password', async () => {
    const authFile = join(work, 'wrong-auth.json');

    const result = await podmanFailing(source, loginArgs(authFile), `not-${admin.password}\n`);

    expect(result.output).toMatch(/invalid username\/password|unauthorized|\b401\b/i);
  }, CLIENT_TIMEOUT_MS);
});

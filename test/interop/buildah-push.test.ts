import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BUSYBOX_PATH } from './support/build-image.js';
import { buildImageWithBuildah, type BuildahImage } from './support/build-with-buildah.js';
import {
  buildah,
  CLIENT_TIMEOUT_MS,
  credsArg,
  inspectRaw,
  skopeo,
  type Credentials,
} from './support/clients.js';
import { createContainersEnv, type ContainersEnv } from './support/containers-env.js';
import { findLayoutProblems, readLayoutImage, sha256Digest } from './support/oci-layout.js';
import { requireTools } from './support/require-tool.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { runOk } from './support/run.js';
import { startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

const LOCAL_NAME = 'localhost/portcullis-interop/buildah:v1';

describe('buildah push of an image built from scratch, pulled back with skopeo', () => {
  let work = '';
  let server: PortcullisServer | undefined;
  let cenv: ContainersEnv;
  let built: BuildahImage;
  let admin: Credentials;

  const pushWithBuildah = async (path: string, format: 'oci' | 'docker'): Promise<string> => {
    const digestFile = join(work, `${path.replace(/\W/g, '-')}.digest`);
    await buildah(cenv, [
      'push',
      '--signature-policy',
      cenv.policyPath,
      '--tls-verify=false',
      '--creds',
      credsArg(admin),
      '--format',
      format,
      '--digestfile',
      digestFile,
      built.name,
      `docker://${server?.host ?? ''}/${path}`,
    ]);

    return (await readFile(digestFile, 'utf8')).trim();
  };

  beforeAll(async () => {
    requireTools('buildah', 'skopeo', 'umoci', 'busybox');
    work = await makeTempDir('buildah');
    cenv = await createContainersEnv(join(work, 'containers'));
    built = await buildImageWithBuildah(cenv, join(work, 'build'), LOCAL_NAME);
    server = await startPortcullis();
    admin = { user: server.adminUser, password: server.adminPassword };
  }, CLIENT_TIMEOUT_MS);

  printServerLogsOnFailure(() => server);

  afterAll(async () => {
    await server?.stop();
    await removeTempDir(work);
  });

  it('pushes an OCI image whose digests skopeo pulls back unchanged', async () => {
    const pushedDigest = await pushWithBuildah('team/buildah:v1', 'oci');
    const back = join(work, 'pulled');

    await skopeo(cenv, [
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      credsArg(admin),
      `docker://${server?.host ?? ''}/team/buildah:v1`,
      `oci:${back}:v1`,
    ]);

    const pulled = await readLayoutImage(back, 'v1');
    expect(pulled.manifestDigest).toBe(pushedDigest);
    expect(pulled.manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json').toBe(
      'application/vnd.oci.image.manifest.v1+json',
    );
    expect(pulled.configDigest).toBe(built.configDigest);
    expect(pulled.diffIds).toEqual(built.diffIds);
    expect(pulled.layerDigests).toHaveLength(2);
    expect(await findLayoutProblems(back, pulled)).toEqual([]);
  }, CLIENT_TIMEOUT_MS);

  it('serves files that unpack to exactly what was built', async () => {
    const back = join(work, 'pulled-files');
    const bundle = join(work, 'bundle');
    await pushWithBuildah('team/buildah-files:v1', 'oci');
    await skopeo(cenv, [
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      credsArg(admin),
      `docker://${server?.host ?? ''}/team/buildah-files:v1`,
      `oci:${back}:v1`,
    ]);

    await runOk('umoci', ['unpack', '--image', `${back}:v1`, bundle]);

    const rootfs = join(bundle, 'rootfs');
    const marker = await readFile(join(rootfs, 'etc', 'portcullis-test'), 'utf8');
    expect(marker).toBe(`${built.marker}\n`);
    const busybox = await readFile(join(rootfs, 'bin', 'busybox'));
    expect(busybox.equals(await readFile(BUSYBOX_PATH))).toBe(true);
  }, CLIENT_TIMEOUT_MS);

  it('pushes the same image as a Docker schema 2 manifest', async () => {
    const pushedDigest = await pushWithBuildah('team/buildah-docker:v1', 'docker');

    const ref = `docker://${server?.host ?? ''}/team/buildah-docker:v1`;
    const raw = await inspectRaw(cenv, ref, admin);
    const manifest = JSON.parse(raw.toString('utf8')) as { mediaType: string; layers: unknown[] };

    expect(sha256Digest(raw)).toBe(pushedDigest);
    expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest.layers).toHaveLength(2);
  }, CLIENT_TIMEOUT_MS);
});

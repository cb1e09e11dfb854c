import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildImageWithUmoci, type BuiltImage } from './support/build-image.js';
import {
  CLIENT_TIMEOUT_MS,
  credsArg,
  inspectRaw,
  skopeo,
  type Credentials,
} from './support/clients.js';
import { createContainersEnv, type ContainersEnv } from './support/containers-env.js';
import { findDirProblems, readDirImage, sha256Digest } from './support/oci-layout.js';
import { requireTools } from './support/require-tool.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

describe('Docker schema 2 images through skopeo', () => {
  let work = '';
  let server: PortcullisServer | undefined;
  let cenv: ContainersEnv;
  let image: BuiltImage;
  let admin: Credentials;

  const repo = (path: string): string => `docker://${server?.host ?? ''}/${path}`;

  /** Pulls with skopeo's dir: transport, which keeps the manifest bytes exactly as served. */
  const pullToDir = async (path: string, name: string): Promise<string> => {
    const dir = join(work, name);
    await skopeo(cenv, [
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      credsArg(admin),
      repo(path),
      `dir:${dir}`,
    ]);

    return dir;
  };

  beforeAll(async () => {
    requireTools('skopeo', 'umoci', 'busybox');
    work = await makeTempDir('schema2');
    cenv = await createContainersEnv(join(work, 'containers'));
    image = await buildImageWithUmoci(join(work, 'image'));
    server = await startPortcullis();
    admin = { user: server.adminUser, password: server.adminPassword };
  }, CLIENT_TIMEOUT_MS);

  printServerLogsOnFailure(() => server);

  afterAll(async () => {
    await server?.stop();
    await removeTempDir(work);
  });

  it('pushes with --format v2s2 and serves a Docker manifest over the same blobs', async () => {
    await skopeo(cenv, [
      'copy',
      '--format',
      'v2s2',
      '--dest-tls-verify=false',
      '--dest-creds',
      credsArg(admin),
      image.ref,
      repo('team/schema2:v1'),
    ]);

    const raw = await inspectRaw(cenv, repo('team/schema2:v1'), admin);
    const manifest = JSON.parse(raw.toString('utf8')) as {
      mediaType: string;
      config: { mediaType: string; digest: string };
      layers: { mediaType: string; digest: string }[];
    };

    expect(manifest.mediaType).toBe(DOCKER_MANIFEST);
    expect(manifest.config).toMatchObject({ mediaType: DOCKER_CONFIG, digest: image.configDigest });
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual([DOCKER_LAYER, DOCKER_LAYER]);
    expect(manifest.layers.map((layer) => layer.digest)).toEqual(image.layerDigests);

    const info = await skopeo(cenv, [
      'inspect',
      '--tls-verify=false',
      '--creds',
      credsArg(admin),
      repo('team/schema2:v1'),
    ]);
    expect((JSON.parse(info.stdout) as { Digest: string }).Digest).toBe(sha256Digest(raw));
  }, CLIENT_TIMEOUT_MS);

  it('pulls the Docker manifest back byte for byte with intact blobs', async () => {
    const served = await inspectRaw(cenv, repo('team/schema2:v1'), admin);

    const dir = await pullToDir('team/schema2:v1', 'schema2-pulled');

    const pulled = await readDirImage(dir);
    expect(pulled.manifestBytes.equals(served)).toBe(true);
    expect(pulled.configDigest).toBe(image.configDigest);
    expect(pulled.diffIds).toEqual(image.diffIds);
    expect(await findDirProblems(dir, pulled)).toEqual([]);
  }, CLIENT_TIMEOUT_MS);

  it('pushes a docker-archive tarball and pulls it back with the same layer contents', async () => {
    const archive = join(work, 'image.tar');
    await skopeo(cenv, ['copy', image.ref, `docker-archive:${archive}:team/archive:v1`]);

    await skopeo(cenv, [
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      credsArg(admin),
      `docker-archive:${archive}`,
      repo('team/archive:v1'),
    ]);

    const raw = await inspectRaw(cenv, repo('team/archive:v1'), admin);
    const manifest = JSON.parse(raw.toString('utf8')) as { mediaType: string };
    expect(manifest.mediaType).toBe(DOCKER_MANIFEST);
    const dir = await pullToDir('team/archive:v1', 'archive-pulled');
    const pulled = await readDirImage(dir);
    expect(pulled.manifestBytes.equals(raw)).toBe(true);
    expect(pulled.diffIds).toEqual(image.diffIds);
    expect(await findDirProblems(dir, pulled)).toEqual([]);
  }, CLIENT_TIMEOUT_MS);
});

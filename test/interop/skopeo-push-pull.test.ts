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
import { findLayoutProblems, readLayoutImage, sha256Digest } from './support/oci-layout.js';
import { requireTools } from './support/require-tool.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

/** The fields of `skopeo inspect` output that these tests read. */
interface InspectOutput {
  Digest: string;
  Layers: string[];
  RepoTags: string[];
}

describe('skopeo copy, inspect, list-tags and delete against Portcullis', () => {
  let work: string | undefined;
  let server: PortcullisServer | undefined;
  let cenv: ContainersEnv;
  let image: BuiltImage;
  let admin: Credentials;

  const repo = (path: string): string => `docker://${server?.host ?? ''}/${path}`;

  const push = (ref: string): ReturnType<typeof skopeo> =>
    skopeo(cenv, [
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      credsArg(admin),
      image.ref,
      ref,
    ]);

  beforeAll(async () => {
    requireTools('skopeo', 'umoci', 'busybox');
    work = await makeTempDir('skopeo');
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

  it('pushes a two-layer OCI image and serves back the same manifest bytes', async () => {
    await push(repo('team/app:v1'));

    const raw = await inspectRaw(cenv, repo('team/app:v1'), admin);

    expect(sha256Digest(raw)).toBe(image.manifestDigest);
    expect(raw.equals(image.manifestBytes)).toBe(true);
  }, CLIENT_TIMEOUT_MS);

  it('reports the pushed digest, layers and config through skopeo inspect', async () => {
    const result = await skopeo(cenv, [
      'inspect',
      '--tls-verify=false',
      '--creds',
      credsArg(admin),
      repo('team/app:v1'),
    ]);
    const info = JSON.parse(result.stdout) as InspectOutput;
    const config = await skopeo(cenv, [
      'inspect',
      '--config',
      '--raw',
      '--tls-verify=false',
      '--creds',
      credsArg(admin),
      repo('team/app:v1'),
    ]);

    expect(info.Digest).toBe(image.manifestDigest);
    expect(info.Layers).toEqual(image.layerDigests);
    expect(info.Layers).toHaveLength(2);
    expect(info.RepoTags).toContain('v1');
    expect(sha256Digest(config.stdout)).toBe(image.configDigest);
  }, CLIENT_TIMEOUT_MS);

  it('pulls the image back into a new OCI layout byte for byte', async () => {
    const back = join(work ?? '', 'pulled');
    await skopeo(cenv, [
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      credsArg(admin),
      repo('team/app:v1'),
      `oci:${back}:v1`,
    ]);

    const pulled = await readLayoutImage(back, 'v1');

    expect(pulled.manifestBytes.equals(image.manifestBytes)).toBe(true);
    expect(pulled.configDigest).toBe(image.configDigest);
    expect(pulled.layerDigests).toEqual(image.layerDigests);
    expect(pulled.diffIds).toEqual(image.diffIds);
    expect(await findLayoutProblems(back, pulled)).toEqual([]);
  }, CLIENT_TIMEOUT_MS);

  it('pulls by digest as well as by tag', async () => {
    const raw = await inspectRaw(cenv, repo(`team/app@${image.manifestDigest}`), admin);

    expect(raw.equals(image.manifestBytes)).toBe(true);
  }, CLIENT_TIMEOUT_MS);

  it('lists every pushed tag', async () => {
    await push(repo('team/app:v2'));
    await push(repo('team/app:latest'));

    const result = await skopeo(cenv, [
      'list-tags',
      '--tls-verify=false',
      '--creds',
      credsArg(admin),
      repo('team/app'),
    ]);
    const listing = JSON.parse(result.stdout) as { Tags: string[] };

    expect([...listing.Tags].sort()).toEqual(['latest', 'v1', 'v2']);
  }, CLIENT_TIMEOUT_MS);

  it('deletes an image by tag so neither the tag nor the digest can be inspected', async () => {
    await push(repo('team/doomed:v1'));
    const login = ['--tls-verify=false', '--creds', credsArg(admin)];

    await skopeo(cenv, ['delete', ...login, repo('team/doomed:v1')]);

    const byTag = await skopeoFailing(cenv, ['inspect', '--raw', ...login, repo('team/doomed:v1')]);
    const byDigest = await skopeoFailing(cenv, [
      'inspect',
      '--raw',
      ...login,
      repo(`team/doomed@${image.manifestDigest}`),
    ]);
    expect(byTag.output).toMatch(/manifest unknown/i);
    expect(byDigest.output).toMatch(/manifest unknown/i);
  }, CLIENT_TIMEOUT_MS);

  it('deletes an image by digest and leaves other repositories untouched', async () => {
    await push(repo('team/doomed-digest:v1'));
    const login = ['--tls-verify=false', '--creds', credsArg(admin)];

    await skopeo(cenv, ['delete', ...login, repo(`team/doomed-digest@${image.manifestDigest}`)]);

    const gone = await skopeoFailing(cenv, [
      'inspect',
      '--raw',
      ...login,
      repo('team/doomed-digest:v1'),
    ]);
    expect(gone.output).toMatch(/manifest unknown/i);
    const kept = await inspectRaw(cenv, repo('team/app:v1'), admin);
    expect(kept.equals(image.manifestBytes)).toBe(true);
  }, CLIENT_TIMEOUT_MS);
});

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
import { readLayoutImage } from './support/oci-layout.js';
import { addUser, createNamespace, grantRole } from './support/portcullis-cli.js';
import { requireTools } from './support/require-tool.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

// containers/image reports a refused token scope or a 401/403 on the registry in these words.
const REFUSED = /denied|unauthorized|insufficient.scope|forbidden|\b40[13]\b/i;

describe('Portcullis role bindings as seen by skopeo', () => {
  let work: string | undefined;
  let server: PortcullisServer | undefined;
  let cenv: ContainersEnv;
  let image: BuiltImage;
  let admin: Credentials;
  let reader: Credentials;
  let writer: Credentials;
  let stranger: Credentials;

  const repo = (path: string): string => `docker://${server?.host ?? ''}/${path}`;

  const pushArgs = (creds: Credentials, path: string): string[] => [
    'copy',
    '--dest-tls-verify=false',
    '--dest-creds',
    credsArg(creds),
    image.ref,
    repo(path),
  ];
  const pushAs = (creds: Credentials, path: string) => skopeo(cenv, pushArgs(creds, path));
  const pushRefused = (creds: Credentials, path: string) =>
    skopeoFailing(cenv, pushArgs(creds, path));

  beforeAll(async () => {
    requireTools('skopeo', 'umoci', 'busybox');
    work = await makeTempDir('roles');
    cenv = await createContainersEnv(join(work, 'containers'));
    image = await buildImageWithUmoci(join(work, 'image'));
    server = await startPortcullis();
    admin = { user: server.adminUser, password: server.adminPassword };

    await createNamespace(server, 'team');
    reader = { user: 'rita-reader', password: await addUser(server, 'rita-reader') };
    writer = { user: 'walt-writer', password: await addUser(server, 'walt-writer') };
    stranger = { user: 'sam-stranger', password: await addUser(server, 'sam-stranger') };
    await grantRole(server, 'reader', reader.user, 'team');
    await grantRole(server, 'writer', writer.user, 'team');

    await pushAs(admin, 'team/app:v1');
    await pushAs(admin, 'team/keep:v1');
  }, CLIENT_TIMEOUT_MS);

  printServerLogsOnFailure(() => server);

  afterAll(async () => {
    await server?.stop();
    await removeTempDir(work);
  });

  it('lets a reader pull an image from its namespace', async () => {
    const back = join(work ?? '', 'reader-pull');
    await skopeo(cenv, [
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      credsArg(reader),
      repo('team/app:v1'),
      `oci:${back}:v1`,
    ]);

    const pulled = await readLayoutImage(back, 'v1');

    expect(pulled.manifestDigest).toBe(image.manifestDigest);
    expect(pulled.layerDigests).toEqual(image.layerDigests);
  }, CLIENT_TIMEOUT_MS);

  it('refuses a push by a reader to a new repository and stores nothing', async () => {
    const result = await pushRefused(reader, 'team/reader-push:v1');

    expect(result.output).toMatch(REFUSED);
    const check = await skopeoFailing(cenv, [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      credsArg(admin),
      repo('team/reader-push:v1'),
    ]);
    expect(check.output).toMatch(/manifest unknown|name unknown|not found/i);
  }, CLIENT_TIMEOUT_MS);

  it('refuses a reader moving a tag in an existing repository', async () => {
    const result = await pushRefused(reader, 'team/app:v2');

    expect(result.output).toMatch(REFUSED);
    const check = await skopeoFailing(cenv, [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      credsArg(admin),
      repo('team/app:v2'),
    ]);
    expect(check.output).toMatch(/manifest unknown/i);
  }, CLIENT_TIMEOUT_MS);

  it('refuses a delete by a reader', async () => {
    const result = await skopeoFailing(cenv, [
      'delete',
      '--tls-verify=false',
      '--creds',
      credsArg(reader),
      repo('team/keep:v1'),
    ]);

    expect(result.output).toMatch(REFUSED);
    expect((await inspectRaw(cenv, repo('team/keep:v1'), admin)).equals(image.manifestBytes)).toBe(
      true,
    );
  }, CLIENT_TIMEOUT_MS);

  it('lets a writer push into its namespace', async () => {
    await pushAs(writer, 'team/writer-app:v1');

    const raw = await inspectRaw(cenv, repo('team/writer-app:v1'), writer);
    expect(raw.equals(image.manifestBytes)).toBe(true);
  }, CLIENT_TIMEOUT_MS);

  it('refuses a writer outside its namespace', async () => {
    const result = await pushRefused(writer, 'other/app:v1');

    expect(result.output).toMatch(REFUSED);
  }, CLIENT_TIMEOUT_MS);

  it('refuses every pull by a user without a binding', async () => {
    const result = await skopeoFailing(cenv, [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      credsArg(stranger),
      repo('team/app:v1'),
    ]);

    expect(result.output).toMatch(REFUSED);
    expect(result.stdout).not.toContain(image.configDigest);
  }, CLIENT_TIMEOUT_MS);

  it('answers a user without a binding alike whether or not the repository exists', async () => {
    const attempt = async (path: string): Promise<string> => {
      const result = await skopeoFailing(cenv, [
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        credsArg(stranger),
        repo(`${path}:v1`),
      ]);

      return result.stderr.split(path).join('<repo>').replace(/^time="[^"]*" /gm, '');
    };

    expect(await attempt('team/app')).toBe(await attempt('team/no-such-app'));
  }, CLIENT_TIMEOUT_MS);
});

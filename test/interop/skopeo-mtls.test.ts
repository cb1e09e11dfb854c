import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bundle, caExtensions, Pki, SERVER_EXTENSIONS, svidExtensions, type Issued } from '../auth/support/spiffe.js';
import { buildImageWithUmoci, type BuiltImage } from './support/build-image.js';
import { CLIENT_TIMEOUT_MS, credsArg, skopeo, skopeoFailing, type Credentials } from './support/clients.js';
import { createContainersEnv, type ContainersEnv } from './support/containers-env.js';
import { findLayoutProblems, readLayoutImage } from './support/oci-layout.js';
import { portcullis } from './support/portcullis-cli.js';
import { requireTools } from './support/require-tool.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

/** A containers cert dir: `ca.crt` (trusts the server), plus `client.cert`/`client.key` when given. */
async function certDir(dir: string, serverCa: Issued, client?: Issued): Promise<string> {
  await mkdir(dir, { recursive: true });
  await copyFile(serverCa.certFile, join(dir, 'ca.crt'));
  if (client) {
    await copyFile(client.certFile, join(dir, 'client.cert'));
    await copyFile(client.keyFile, join(dir, 'client.key'));
  }

  return dir;
}

describe('skopeo over TLS, pulling with an X.509-SVID as the only credential', () => {
  let work: string | undefined;
  let pki: Pki | undefined;
  let server: PortcullisServer | undefined;
  let cenv: ContainersEnv;
  let image: BuiltImage;
  let admin: Credentials;
  let trustOnly: string;
  let withSvid: string;
  let configFile: string;

  const repo = (path: string): string => `docker://${server?.host ?? ''}/${path}`;

  beforeAll(async () => {
    requireTools('skopeo', 'umoci', 'busybox');
    work = await makeTempDir('skopeo-mtls');
    cenv = await createContainersEnv(join(work, 'containers'));
    image = await buildImageWithUmoci(join(work, 'image'));

    pki = await Pki.create();
    const serverCa = await pki.ca('server-ca', caExtensions());
    await pki.leaf('server', serverCa, SERVER_EXTENSIONS);
    const domainCa = await pki.ca('example-org-ca', caExtensions('spiffe://example.org'));
    const builder = await pki.leaf('builder', domainCa, svidExtensions('spiffe://example.org/ci/builder'));
    await pki.write('bundle.json', bundle([], [domainCa]));
    configFile = join(pki.dir, 'portcullis.yaml');
    await writeFile(
      configFile,
      [
        'tls: { cert: server.crt, key: server.key }',
        'federation:',
        '  issuers:',
        '    - { alias: mesh, kind: spiffe, issuer: example.org, audiences: [portcullis], jwksFile: bundle.json }',
        '',
      ].join('\n'),
    );
    trustOnly = await certDir(join(work, 'certs-trust-only'), serverCa);
    withSvid = await certDir(join(work, 'certs-svid'), serverCa, builder);

    server = await startPortcullis({ configFile, tlsCa: serverCa.cert });
    admin = { user: server.adminUser, password: server.adminPassword };
    await portcullis(server, ['namespace', 'create', 'ci']);
    await portcullis(server, [
      'federation', 'rule', 'add', 'builders',
      '--issuer', 'mesh',
      '--claim', 'sub=spiffe://example.org/ci/*',
      '--grant', 'ci=reader',
      '--config', configFile,
    ]);
  }, CLIENT_TIMEOUT_MS);

  printServerLogsOnFailure(() => server);

  afterAll(async () => {
    await server?.stop();
    await pki?.remove();
    await removeTempDir(work);
  });

  it('pushes the image over verified TLS with the admin password', async () => {
    await skopeo(cenv, ['copy', '--dest-cert-dir', trustOnly, '--dest-creds', credsArg(admin), image.ref, repo('ci/app:1')]);

    const result = await skopeo(cenv, ['inspect', '--raw', '--cert-dir', trustOnly, '--creds', credsArg(admin), repo('ci/app:1')]);
    expect(result.stdout).toBe(image.manifestBytes.toString('utf8'));
  }, CLIENT_TIMEOUT_MS);

  it('pulls with the X.509-SVID alone and gets the same digests', async () => {
    const back = join(work ?? '', 'pulled');
    await skopeo(cenv, ['copy', '--src-cert-dir', withSvid, repo('ci/app:1'), `oci:${back}:1`]);

    const pulled = await readLayoutImage(back, '1');
    expect(pulled.manifestDigest).toBe(image.manifestDigest);
    expect(pulled.configDigest).toBe(image.configDigest);
    expect(pulled.layerDigests).toEqual(image.layerDigests);
    expect(await findLayoutProblems(back, pulled)).toEqual([]);
    // The rule records the workload that last signed in through it.
    const rules = await portcullis(server!, ['federation', 'rule', 'list', '--config', configFile]);
    expect(rules.stdout).toMatch(/^builders\tmesh\t.*\tci=reader\tlast used \S+ by spiffe:\/\/example\.org\/ci\/builder from 127\.0\.0\.1\tenabled$/m);
  }, CLIENT_TIMEOUT_MS);

  it('fails the same pull when the cert dir holds no client certificate', async () => {
    const back = join(work ?? '', 'refused');
    const result = await skopeoFailing(cenv, ['copy', '--src-cert-dir', trustOnly, repo('ci/app:1'), `oci:${back}:1`]);

    expect(result.output).toMatch(/unauthorized: authentication required: this registry serves no anonymous requests/);
  }, CLIENT_TIMEOUT_MS);
});

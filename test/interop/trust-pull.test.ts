import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RegistryClient } from '../helpers/client.js';
import { cosignSign, p256, type SigningKey } from '../trust/support.js';
import { buildImageWithUmoci, type BuiltImage } from './support/build-image.js';
import { CLIENT_TIMEOUT_MS, credsArg, podman, podmanFailing, skopeo, skopeoFailing, type Credentials } from './support/clients.js';
import { createContainersEnv, type ContainersEnv } from './support/containers-env.js';
import { readLayoutImage } from './support/oci-layout.js';
import { portcullis } from './support/portcullis-cli.js';
import { requireTools } from './support/require-tool.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { run } from './support/run.js';
import { PORTCULLIS_BIN, startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

/**
 * The acceptance test: a namespace whose policy requires a signature by the release
 * key refuses skopeo and podman an unsigned image and serves them the signed one, unchanged.
 */
describe('skopeo and podman against an enforcing trust policy', () => {
  let work = '';
  let server: PortcullisServer | undefined;
  let cenv: ContainersEnv;
  let image: BuiltImage;
  let admin: Credentials;
  let key: SigningKey;

  const ref = (path: string) => `docker://${server?.host ?? ''}/${path}`;

  beforeAll(async () => {
    requireTools('skopeo', 'podman', 'umoci', 'busybox');
    work = await makeTempDir('trust');
    cenv = await createContainersEnv(join(work, 'containers'));
    image = await buildImageWithUmoci(join(work, 'image'));
    server = await startPortcullis();
    admin = { user: server.adminUser, password: server.adminPassword };
    for (const tag of ['unsigned', 'signed']) {
      await skopeo(cenv, ['copy', '--dest-tls-verify=false', '--dest-creds', credsArg(admin), image.ref, ref(`prod/app:${tag}`)]);
    }
    // The same image under two tags: sign a second, distinct image so that one stays unsigned.
    const client = new RegistryClient(server.url, admin.user, admin.password);
    const other = await client.pushImage('prod/app', 'unsigned');
    expect(other.digest).not.toBe(image.manifestDigest);
    key = p256();
    await cosignSign(client, 'prod/app', image.manifestDigest, key);
    await writeFile(join(work, 'release.pub'), key.publicPem);
    await writeFile(join(work, 'policy.yaml'), ['mode: enforce', 'signers:', '  - name: release', '    key: release.pub', ''].join('\n'));
    const set = await portcullis(server, ['trust', 'set', 'prod', '--file', join(work, 'policy.yaml')]);
    expect(set.stdout).toMatch(/namespace prod: trust policy version 1/);
  }, CLIENT_TIMEOUT_MS);

  printServerLogsOnFailure(() => server);

  afterAll(async () => {
    await server?.stop();
    await removeTempDir(work);
  });

  it('skopeo is refused the unsigned image, with the reason', async () => {
    const refused = await skopeoFailing(cenv, ['copy', '--src-tls-verify=false', '--src-creds', credsArg(admin), ref('prod/app:unsigned'), `oci:${join(work, 'refused')}:x`]);
    expect(refused.output).toMatch(/denied/i);
    expect(refused.output).toContain('no valid signature by a trusted signer (release)');
  }, CLIENT_TIMEOUT_MS);

  it('skopeo copies the signed image out, byte for byte', async () => {
    const out = join(work, 'pulled');
    await skopeo(cenv, ['copy', '--src-tls-verify=false', '--src-creds', credsArg(admin), ref('prod/app:signed'), `oci:${out}:v1`]);
    const pulled = await readLayoutImage(out, 'v1');
    expect(pulled.manifestBytes.equals(image.manifestBytes)).toBe(true);
  }, CLIENT_TIMEOUT_MS);

  it('podman pulls the signed image and is refused the unsigned one', async () => {
    const creds = ['--creds', credsArg(admin), '--signature-policy', cenv.policyPath, '--tls-verify=false'];
    await podman(cenv, ['pull', ...creds, `${server?.host ?? ''}/prod/app:signed`]);
    const refused = await podmanFailing(cenv, ['pull', ...creds, `${server?.host ?? ''}/prod/app:unsigned`]);
    expect(refused.output).toMatch(/denied/i);
  }, CLIENT_TIMEOUT_MS);

  it('portcullis trust check agrees, and exits 3 for the refused image', async () => {
    const ok = await portcullis(server!, ['trust', 'check', 'prod/app', 'signed']);
    expect(ok.stdout).toContain('ok: signature by release (cosign)');
    const refused = await run(process.execPath, [PORTCULLIS_BIN, 'trust', 'check', 'prod/app', 'unsigned', '--data-dir', server!.dataDir]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain('why: trust policy of namespace prod: no valid signature by a trusted signer (release): the image has no signatures');
  }, CLIENT_TIMEOUT_MS);
});

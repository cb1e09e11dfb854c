import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startIssuer, type TestIssuer } from '../auth/support/issuer.js';
import { buildImageWithUmoci, type BuiltImage } from './support/build-image.js';
import { CLIENT_TIMEOUT_MS, credsArg, podman, skopeo, skopeoFailing, type Credentials } from './support/clients.js';
import { createContainersEnv, type ContainersEnv } from './support/containers-env.js';
import { readLayoutImage } from './support/oci-layout.js';
import { createNamespace, portcullis } from './support/portcullis-cli.js';
import { requireTools } from './support/require-tool.js';
import { registerSecret } from './support/run.js';
import { printServerLogsOnFailure } from './support/server-logs.js';
import { startPortcullis, type PortcullisServer } from './support/start-server.js';
import { makeTempDir, removeTempDir } from './support/temp-dir.js';

const AUDIENCE = 'https://registry.test';

/**
 * A CI job's ID token, as GitHub Actions hands one out, used unchanged by skopeo and podman as
 * the password of the issuer alias: no registry secret exists anywhere in the job.
 */
describe('skopeo and podman pull with a federated CI token', () => {
  let work = '';
  let issuer: TestIssuer;
  let server: PortcullisServer | undefined;
  let cenv: ContainersEnv;
  let image: BuiltImage;
  let admin: Credentials;

  const ref = (path: string) => `docker://${server?.host ?? ''}/${path}`;
  const ciToken = async (repository: string) => {
    const jwt = await issuer.sign({ sub: `repo:${repository}:ref:refs/heads/main`, aud: AUDIENCE, repository, ref: 'refs/heads/main' });
    registerSecret(jwt);
    return { user: 'ci', password: jwt };
  };

  beforeAll(async () => {
    requireTools('skopeo', 'podman', 'umoci', 'busybox');
    work = await makeTempDir('federated');
    issuer = await startIssuer('RS256');
    const config = join(work, 'portcullis.yaml');
    await writeFile(config, ['federation:', '  issuers:', '    - alias: ci', `      issuer: ${issuer.url}`, `      audiences: [${AUDIENCE}]`].join('\n'));
    cenv = await createContainersEnv(join(work, 'containers'));
    image = await buildImageWithUmoci(join(work, 'image'));
    server = await startPortcullis({ configFile: config });
    admin = { user: server.adminUser, password: server.adminPassword };
    await createNamespace(server, 'team');
    await portcullis(server, ['federation', 'rule', 'add', 'app-main', '--issuer', 'ci', '--claim', 'repository=octo-org/app', '--claim', 'ref=refs/heads/main', '--grant', 'team=reader', '--config', config]);
    await skopeo(cenv, ['copy', '--dest-tls-verify=false', '--dest-creds', credsArg(admin), image.ref, ref('team/app:v1')]);
  }, CLIENT_TIMEOUT_MS);

  printServerLogsOnFailure(() => server);

  afterAll(async () => {
    await server?.stop();
    await issuer?.close();
    await removeTempDir(work);
  });

  it('skopeo copies the image out with the JWT as the password, byte for byte', async () => {
    const out = join(work, 'pulled');
    await skopeo(cenv, ['copy', '--src-tls-verify=false', '--src-creds', credsArg(await ciToken('octo-org/app')), ref('team/app:v1'), `oci:${out}:v1`]);
    const pulled = await readLayoutImage(out, 'v1');
    expect(pulled.manifestBytes.equals(image.manifestBytes)).toBe(true);
    expect(pulled.layerDigests).toEqual(image.layerDigests);
  }, CLIENT_TIMEOUT_MS);

  it('podman logs in with the JWT on standard input and pulls', async () => {
    const token = await ciToken('octo-org/app');
    const authFile = join(work, 'auth.json');
    const login = await podman(cenv, ['login', '--authfile', authFile, '--tls-verify=false', '--username', 'ci', '--password-stdin', server?.host ?? ''], `${token.password}\n`);
    expect(login.stdout).toMatch(/Login Succeeded/);
    await podman(cenv, ['pull', '--authfile', authFile, '--signature-policy', cenv.policyPath, '--tls-verify=false', `${server?.host ?? ''}/team/app:v1`]);
    const [info] = JSON.parse((await podman(cenv, ['image', 'inspect', `${server?.host ?? ''}/team/app:v1`])).stdout) as Array<{ Digest: string }>;
    expect(info?.Digest).toBe(image.manifestDigest);
  }, CLIENT_TIMEOUT_MS);

  it("refuses another repository's token, and a push the rule does not grant", async () => {
    const stranger = await skopeoFailing(cenv, ['inspect', '--tls-verify=false', '--creds', credsArg(await ciToken('octo-org/other')), ref('team/app:v1')]);
    expect(stranger.output).toMatch(/401|unauthorized|authentication required/i);

    const push = await skopeoFailing(cenv, ['copy', '--dest-tls-verify=false', '--dest-creds', credsArg(await ciToken('octo-org/app')), image.ref, ref('team/app:v2')]);
    expect(push.output).toMatch(/denied|unauthorized|401|403/i);
  }, CLIENT_TIMEOUT_MS);
});

import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, sha256 } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { withStore } from './support/accounts.js';
import { decodeJwt } from './support/http.js';
import { bundle, caExtensions, Pki, SERVER_EXTENSIONS, svidExtensions, type Issued } from './support/spiffe.js';

const BUILDER = 'spiffe://example.org/ci/builder';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Call {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** The client certificate to present; none when absent. */
  client?: Issued;
}

/** The exact 401 body of a refused federated credential. */
function refusal(description: string) {
  const message = `federated credential refused: ${description}`;

  return { errors: [{ code: 'UNAUTHORIZED', message }], error: 'invalid_grant', error_description: message };
}

describe('X.509-SVIDs over mTLS at /token', () => {
  let pki: Pki;
  let registry: TestRegistry;
  let base: string;
  let serverCa: Issued;
  let builder: Issued;
  let stranger: Issued;
  let twoUris: Issued;
  let claimsB: Issued;
  let untrusted: Issued;
  let expired: Issued;

  /** A request over its own TLS connection that trusts the server CA and presents `client`. */
  const send = (path: string, options: Call = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const client = options.client ? { cert: options.client.cert, key: options.client.key } : {};
      const req = request(
        `${base}${path}`,
        { method: options.method ?? 'GET', headers: options.headers, ca: serverCa.cert, ...client, agent: false },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });

  const tokenPath = (...scopes: string[]) =>
    `/token?${new URLSearchParams([['service', 'portcullis'], ...scopes.map((s): [string, string] => ['scope', s])])}`;

  /** A registry token for the scopes, obtained with the client certificate alone. */
  const svidToken = async (client: Issued, ...scopes: string[]): Promise<string> => {
    const res = await send(tokenPath(...scopes), { client });
    expect(res.status, res.body).toBe(200);

    return (JSON.parse(res.body) as { token: string }).token;
  };

  beforeAll(async () => {
    pki = await Pki.create();
    serverCa = await pki.ca('server-ca', caExtensions());
    await pki.leaf('server', serverCa, SERVER_EXTENSIONS);
    const exampleCa = await pki.ca('example-org-ca', caExtensions('spiffe://example.org'));
    const bCa = await pki.ca('b-org-ca', caExtensions('spiffe://b.org'));
    const rogueCa = await pki.ca('rogue-ca', caExtensions('spiffe://example.org'));
    builder = await pki.leaf('builder', exampleCa, svidExtensions(BUILDER));
    stranger = await pki.leaf('frontend', exampleCa, svidExtensions('spiffe://example.org/web/frontend'));
    twoUris = await pki.leaf('two-uris', exampleCa, svidExtensions(BUILDER, 'spiffe://example.org/ci/other'));
    claimsB = await pki.leaf('claims-b', exampleCa, svidExtensions('spiffe://b.org/ci/builder'));
    untrusted = await pki.leaf('untrusted', rogueCa, svidExtensions(BUILDER));
    expired = await pki.leaf('expired', exampleCa, svidExtensions(BUILDER), -1);
    await pki.write('example.json', bundle([], [exampleCa]));
    await pki.write('b.json', bundle([], [bCa]));
    const configFile = await pki.write(
      'portcullis.yaml',
      [
        // Relative paths: they resolve against the configuration file's directory.
        'tls: { cert: server.crt, key: server.key }',
        'auth:',
        '  throttle: { addressFailures: 1000 }',
        'federation:',
        '  issuers:',
        '    - { alias: mesh, kind: spiffe, issuer: example.org, audiences: [portcullis], jwksFile: example.json }',
        '    - { alias: bmesh, kind: spiffe, issuer: b.org, audiences: [portcullis], jwksFile: b.json }',
        '',
      ].join('\n'),
    );
    registry = await startRegistry({ configFile });
    base = `https://127.0.0.1:${new URL(registry.running.address).port}`;
    await withStore(registry, async (store) => {
      await store.principals.createNamespace('ci', null);
      await store.principals.createNamespace('other', null);
      await store.federation.addRule({
        name: 'builders',
        issuerAlias: 'mesh',
        conditions: { sub: 'spiffe://example.org/ci/*' },
        grants: [{ namespace: 'ci', role: 'writer' }],
        mixedEnvironments: false,
      });
      // Any b.org workload would be a reader: a refusal of the b.org claim is the chain's doing.
      await store.federation.addRule({
        name: 'b-workloads',
        issuerAlias: 'bmesh',
        conditions: { sub: 'spiffe://b.org/**' },
        grants: [{ namespace: 'ci', role: 'reader' }],
        mixedEnvironments: false,
      });
    });
  });
  afterAll(async () => {
    await registry?.close();
    await pki?.remove();
  });

  it('serves HTTPS and announces an https realm in the /v2/ challenge', async () => {
    const res = await send('/v2/');

    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${base}/token",service="portcullis"`);
  });

  it('issues a token to a valid X.509-SVID without any password', async () => {
    const res = await send(tokenPath('repository:ci/app:pull,push,delete', 'repository:other/app:pull'), { client: builder });

    expect(res.status, res.body).toBe(200);
    const body = JSON.parse(res.body) as { token: string; expires_in: number };
    expect(body.expires_in).toBeGreaterThan(0);
    expect(body.expires_in).toBeLessThanOrEqual(300);
    const { payload } = decodeJwt(body.token);
    expect(payload.fed).toEqual({ issuer: 'spiffe://example.org', subject: BUILDER, rule: 'builders' });
    expect(payload.name).toBe('rule+builders');
    expect(payload.sub).toMatch(/^rule:[0-9a-f-]{36}$/);
    expect(payload.access).toEqual([{ type: 'repository', name: 'ci/app', actions: ['pull', 'push'] }]);
  });

  it('lets the workload push and pull in its namespace, and not elsewhere', async () => {
    const token = await svidToken(builder, 'repository:ci/app:pull,push', 'repository:other/app:pull,push');
    const auth = { Authorization: `Bearer ${token}` };
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = randomBytes(512);
    for (const blob of [config, layer]) {
      const put = await send(`/v2/ci/app/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: auth, body: blob });
      expect(put.status, put.body).toBe(201);
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
      }),
    );
    const pushed = await send('/v2/ci/app/manifests/1', { method: 'PUT', headers: { ...auth, 'Content-Type': MANIFEST_TYPE }, body: manifest });
    expect(pushed.status, pushed.body).toBe(201);

    const pulled = await send('/v2/ci/app/manifests/1', { headers: { ...auth, Accept: MANIFEST_TYPE } });
    expect(pulled.status).toBe(200);
    expect(pulled.headers['docker-content-digest']).toBe(sha256(manifest));
    expect(pulled.body).toBe(manifest.toString('utf8'));

    const elsewhere = await send('/v2/other/app/blobs/uploads/', { method: 'POST', headers: auth });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers['www-authenticate']).toBe(
      `Bearer realm="${base}/token",service="portcullis",scope="repository:other/app:pull,push",error="insufficient_scope"`,
    );
  });

  it('refuses a request with neither a certificate nor credentials', async () => {
    const res = await send(tokenPath('repository:ci/app:pull'));

    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({
      errors: [{ code: 'UNAUTHORIZED', message: 'authentication required: this registry serves no anonymous requests' }],
    });
  });

  it('still takes passwords on the same TLS server, without a client certificate', async () => {
    const res = await send(tokenPath('repository:ci/app:pull'), { headers: { Authorization: basic('admin', registry.adminPassword) } });

    expect(res.status, res.body).toBe(200);
    const { token } = JSON.parse(res.body) as { token: string };
    expect(decodeJwt(token).payload.name).toBe('admin');
    const tags = await send('/v2/ci/app/tags/list', { headers: { Authorization: `Bearer ${token}` } });
    expect(tags.status).toBe(200);
    expect(JSON.parse(tags.body)).toEqual({ name: 'ci/app', tags: ['1'] });
  });

  it.each([
    ['a leaf signed by example.org claiming a b.org ID', () => claimsB, 'the certificate does not chain to the bundle of b.org'],
    ['a leaf with two URI SANs', () => twoUris, 'an X.509-SVID carries exactly one URI SAN'],
    ['a leaf from a CA no bundle holds', () => untrusted, 'the client certificate does not chain to a trusted SPIFFE bundle'],
    ['an expired leaf', () => expired, 'the client certificate does not chain to a trusted SPIFFE bundle'],
    ['a valid SVID no rule accepts', () => stranger, "no federation rule of mesh accepts this token's claims"],
  ])('refuses %s with 401 and says why', async (_what, client, description) => {
    const res = await send(tokenPath('repository:ci/app:pull'), { client: client() });

    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual(refusal(description));
  });

  it('refuses the SVID while its rule is disabled, and takes it again once enabled', async () => {
    await withStore(registry, (store) => store.federation.setRuleDisabled('builders', true));
    const disabled = await send(tokenPath('repository:ci/app:pull'), { client: builder });
    await withStore(registry, (store) => store.federation.setRuleDisabled('builders', false));
    const enabled = await send(tokenPath('repository:ci/app:pull'), { client: builder });

    expect(disabled.status).toBe(401);
    expect(JSON.parse(disabled.body)).toEqual(refusal("no federation rule of mesh accepts this token's claims"));
    expect(enabled.status, enabled.body).toBe(200);
  });
});

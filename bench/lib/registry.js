// OCI distribution client operations used by the scenarios, on top of TokenAuth.
import crypto from 'node:crypto';
import { HttpError, resolveLocation, withQuery } from './http.js';
import { sha256 } from './blobsrc.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCTET = 'application/octet-stream';

export const pullScope = (repo) => `repository:${repo}:pull`;
export const pushScope = (repo) => `repository:${repo}:pull,push`;

function expect(r, statuses, what, method, url) {
  if (!statuses.includes(r.status)) throw new HttpError(`${what}: expected ${statuses.join('/')}`, { method, url, ...r });
  return r;
}

function checkDigestHeader(r, digest, what, method, url) {
  const got = r.headers['docker-content-digest'];
  if (got && got !== digest) throw new HttpError(`${what}: Docker-Content-Digest ${got} != ${digest}`, { method, url, ...r });
}

export class RegistryClient {
  constructor(auth) {
    this.auth = auth;
    this.base = auth.baseUrl;
  }

  async startUpload(repo) {
    const url = `${this.base}/v2/${repo}/blobs/uploads/`;
    const r = await this.auth.send('POST', url, { headers: { 'content-length': '0' } }, pushScope(repo));
    expect(r, [202], 'open upload session', 'POST', url);
    return resolveLocation(r.headers.location, url);
  }

  /** POST, then one PUT ?digest= carrying the whole body (Buffer or RandomBlob stream). */
  async pushMonolithic(repo, { digest, size, body }) {
    const location = await this.startUpload(repo);
    const url = withQuery(location, { digest });
    const r = await this.auth.send('PUT', url, {
      headers: { 'content-type': OCTET, 'content-length': String(size) }, body,
    }, pushScope(repo));
    expect(r, [201], 'monolithic blob PUT', 'PUT', url);
    checkDigestHeader(r, digest, 'monolithic blob PUT', 'PUT', url);
  }

  /** POST, PATCH chunk by chunk (Content-Range inclusive), final empty PUT ?digest=. */
  async pushChunked(repo, blob, chunkSize) {
    let location = await this.startUpload(repo);
    let offset = 0;
    for (const chunk of blob.pieces(chunkSize)) {
      const end = offset + chunk.length - 1;
      const r = await this.auth.send('PATCH', location, {
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${end}`,
          'content-length': String(chunk.length),
        },
        body: chunk,
      }, pushScope(repo));
      expect(r, [202], `PATCH chunk ${offset}-${end}`, 'PATCH', location);
      location = resolveLocation(r.headers.location, location);
      offset = end + 1;
    }
    const url = withQuery(location, { digest: blob.digest });
    const r = await this.auth.send('PUT', url, { headers: { 'content-length': '0' } }, pushScope(repo));
    expect(r, [201], 'closing PUT after chunks', 'PUT', url);
    checkDigestHeader(r, blob.digest, 'closing PUT after chunks', 'PUT', url);
  }

  async headBlob(repo, digest) {
    const url = `${this.base}/v2/${repo}/blobs/${digest}`;
    const r = await this.auth.send('HEAD', url, { read: 'discard' }, pushScope(repo));
    return expect(r, [200, 404], 'blob HEAD', 'HEAD', url).status === 200;
  }

  /** GET the blob, hashing as it streams in; returns the byte count. */
  async pullBlob(repo, digest) {
    const url = `${this.base}/v2/${repo}/blobs/${digest}`;
    const r = await this.auth.send('GET', url, { read: 'stream' }, pullScope(repo));
    if (r.status !== 200) {
      const parts = [];
      for await (const d of r.res) parts.push(d);
      throw new HttpError('blob GET', { method: 'GET', url, ...r, body: Buffer.concat(parts) });
    }
    const h = crypto.createHash('sha256');
    let bytes = 0;
    for await (const d of r.res) { h.update(d); bytes += d.length; }
    const got = `sha256:${h.digest('hex')}`;
    if (got !== digest) {
      throw new HttpError(`blob GET: received ${bytes} bytes hashing to ${got}, expected ${digest}; response headers ${JSON.stringify(r.headers)}`,
        { method: 'GET', url, status: r.status, headers: r.headers });
    }
    return bytes;
  }

  async putManifest(repo, reference, manifest, mediaType = OCI_MANIFEST) {
    const url = `${this.base}/v2/${repo}/manifests/${reference}`;
    const body = Buffer.from(JSON.stringify(manifest));
    const r = await this.auth.send('PUT', url, {
      headers: { 'content-type': mediaType, 'content-length': String(body.length) }, body,
    }, pushScope(repo));
    expect(r, [201], 'manifest PUT', 'PUT', url);
    const digest = sha256(body);
    checkDigestHeader(r, digest, 'manifest PUT', 'PUT', url);
    return { digest, size: body.length };
  }

  /** Push a small OCI image (layer + config + manifest) the way a client does. */
  async pushSmallImage(repo, tag, layerSize) {
    const layer = crypto.randomBytes(layerSize);
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: new Date().toISOString(),
      config: { Env: [`BENCH_NONCE=${crypto.randomBytes(8).toString('hex')}`] },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }));
    const descs = [];
    for (const [buf, mediaType] of [[layer, OCI_LAYER], [config, OCI_CONFIG]]) {
      const digest = sha256(buf);
      if (!(await this.headBlob(repo, digest))) {
        await this.pushMonolithic(repo, { digest, size: buf.length, body: buf });
      }
      descs.push({ mediaType, digest, size: buf.length });
    }
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: descs[1], layers: [descs[0]] };
    return { manifest, ...(await this.putManifest(repo, tag, manifest)) };
  }
}

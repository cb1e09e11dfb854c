import { createHash, randomBytes } from 'node:crypto';
import { errorCode, rawRequest, type RawOptions, type RawResponse } from './http.js';

export interface PushedImage {
  tag: string;
  manifest: Buffer;
  digest: string;
  blobs: Array<{ digest: string; bytes: Buffer }>;
}

/** A registry client over single-connection requests, holding one token per repository. */
export class Session {
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly base: string,
    readonly user: string,
    readonly password: string,
    private readonly ca?: string | Buffer,
  ) {}

  /** A token for pull, push and delete on `repository`. */
  async token(repository: string): Promise<string> {
    const cached = this.tokens.get(repository);
    if (cached) return cached;
    const query = new URLSearchParams({
      service: 'portcullis',
      scope: `repository:${repository}:pull,push,delete`,
    });
    const res = await rawRequest(`${this.base}/token?${query}`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`,
      },
      ca: this.ca,
    });
    if (res.status !== 200)
      throw new Error(`token request gave ${res.status}: ${res.body.toString()}`);
    const { token } = JSON.parse(res.body.toString('utf8')) as { token: string };
    this.tokens.set(repository, token);

    return token;
  }

  /** A request to a `/v2/<repository>/…` path with the repository's token. */
  async request(repository: string, path: string, options: RawOptions = {}): Promise<RawResponse> {
    const headers = { ...options.headers, Authorization: `Bearer ${await this.token(repository)}` };

    return rawRequest(`${this.base}${path}`, { ...options, headers, ca: this.ca });
  }

  /** POST …/blobs/uploads/ and return the session's location. */
  async startUpload(repository: string, query = ''): Promise<string> {
    const res = await this.request(repository, `/v2/${repository}/blobs/uploads/${query}`, {
      method: 'POST',
    });
    if (res.status !== 202)
      throw new Error(`POST upload gave ${res.status}: ${res.body.toString()}`);

    return String(res.headers.location);
  }

  /** PATCH one chunk that starts at `start` and is `length` bytes long. */
  patch(
    repository: string,
    location: string,
    start: number,
    length: number,
    body: Buffer | AsyncIterable<Uint8Array>,
    options: RawOptions = {},
  ): Promise<RawResponse> {
    return this.request(repository, location, {
      ...options,
      method: 'PATCH',
      body,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': length,
        'Content-Range': `${start}-${start + length - 1}`,
      },
    });
  }

  /** GET <location>: where the upload stands. */
  status(repository: string, location: string): Promise<RawResponse> {
    return this.request(repository, location);
  }

  /** PUT <location>?digest=…, optionally with a last chunk. */
  complete(
    repository: string,
    location: string,
    digest: string,
    body?: Buffer,
  ): Promise<RawResponse> {
    const sep = location.includes('?') ? '&' : '?';
    const headers: Record<string, string | number> = { 'Content-Length': body?.byteLength ?? 0 };
    if (body) headers['Content-Type'] = 'application/octet-stream';

    return this.request(repository, `${location}${sep}digest=${digest}`, {
      method: 'PUT',
      headers,
      body: body ?? Buffer.alloc(0),
    });
  }

  /** A whole blob in one POST …/blobs/uploads/?digest=… (the monolithic upload). */
  pushMonolithic(
    repository: string,
    bytes: Buffer | AsyncIterable<Uint8Array>,
    digest: string,
    length: number,
  ) {
    return this.request(repository, `/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: bytes,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': length },
    });
  }

  headBlob(repository: string, digest: string): Promise<RawResponse> {
    return this.request(repository, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
  }

  /** GETs a blob, hashing it as it streams; returns the status, size and sha256 digest. */
  async blobDigest(
    repository: string,
    digest: string,
  ): Promise<{ status: number; size: number; digest: string }> {
    const hash = createHash('sha256');
    let size = 0;
    const res = await this.request(repository, `/v2/${repository}/blobs/${digest}`, {
      consume: (piece) => {
        size += piece.byteLength;
        hash.update(piece);
      },
    });

    return { status: res.status, size, digest: `sha256:${hash.digest('hex')}` };
  }

  /** Pushes a small image (a layer and a config) under `tag`. */
  async pushImage(repository: string, tag: string): Promise<PushedImage> {
    const layer = randomBytes(200_000);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );
    const blobs = [layer, config].map((bytes) => ({ bytes, digest: sha256(bytes) }));
    for (const blob of blobs) {
      const res = await this.pushMonolithic(
        repository,
        blob.bytes,
        blob.digest,
        blob.bytes.byteLength,
      );
      if (res.status !== 201)
        throw new Error(`blob push gave ${res.status}: ${res.body.toString()}`);
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: blobs[1]!.digest,
          size: config.length,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            digest: blobs[0]!.digest,
            size: layer.length,
          },
        ],
      }),
    );
    const res = await this.request(repository, `/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      body: manifest,
      headers: {
        'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
        'Content-Length': manifest.length,
      },
    });
    if (res.status !== 201)
      throw new Error(`manifest push gave ${res.status}: ${res.body.toString()}`);

    return { tag, manifest, digest: sha256(manifest), blobs };
  }

  /** Checks that an image reads back byte for byte; returns a list of problems (empty when intact). */
  async verifyImage(repository: string, image: PushedImage): Promise<string[]> {
    const problems: string[] = [];
    const res = await this.request(repository, `/v2/${repository}/manifests/${image.tag}`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    if (res.status !== 200 || !res.body.equals(image.manifest))
      problems.push(`manifest ${image.tag}: ${res.status}`);
    if (res.headers['docker-content-digest'] !== image.digest)
      problems.push(`manifest digest ${image.tag}`);
    for (const blob of image.blobs) {
      const got = await this.blobDigest(repository, blob.digest);
      if (got.status !== 200 || got.digest !== blob.digest || got.size !== blob.bytes.byteLength) {
        problems.push(`blob ${blob.digest}: ${got.status}, ${got.size} bytes, ${got.digest}`);
      }
    }

    return problems;
  }
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export { errorCode };

import { createHash, randomBytes } from 'node:crypto';

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: RequestInit['body'] | Buffer;
  /** Token scope; defaults to pull,push,delete on the repository in the path. */
  scope?: string | string[];
  /** Send no Authorization header at all. */
  anonymous?: boolean;
}

/** A minimal registry client speaking the token protocol, for tests. */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly base: string,
    readonly user: string,
    readonly password: string,
  ) {}

  /** Fetches a token for the scopes with Basic credentials; throws on a non-200 answer. */
  async token(scopes: string[]): Promise<string> {
    const key = scopes.join(' ');
    const cached = this.tokens.get(key);
    if (cached) return cached;
    const query = new URLSearchParams({ service: 'portcullis' });
    for (const s of scopes) query.append('scope', s);
    const res = await fetch(`${this.base}/token?${query}`, {
      headers: { Authorization: basic(this.user, this.password) },
    });
    if (res.status !== 200) throw new Error(`token request failed with ${res.status}: ${await res.text()}`);
    const { token } = (await res.json()) as { token: string };
    this.tokens.set(key, token);

    return token;
  }

  forget(): void {
    this.tokens.clear();
  }

  async request(path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (!options.anonymous) {
      const scopes = options.scope === undefined ? [scopeFor(path)] : [options.scope].flat();
      headers.Authorization = `Bearer ${await this.token(scopes.filter(Boolean))}`;
    }
    const init: RequestInit & { duplex?: string } = { method: options.method ?? 'GET', headers, redirect: 'manual' };
    if (options.body !== undefined) {
      init.body = options.body as RequestInit['body'];
      init.duplex = 'half';
    }

    return fetch(new URL(path, this.base), init);
  }

  /** Uploads a blob with POST + PUT and returns its digest. */
  async pushBlob(repository: string, bytes: Buffer): Promise<string> {
    const digest = sha256(bytes);
    const start = await this.request(`/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`POST upload gave ${start.status}: ${await start.text()}`);
    const location = start.headers.get('location')!;
    const sep = location.includes('?') ? '&' : '?';
    const put = await this.request(`${location}${sep}digest=${digest}`, {
      method: 'PUT',
      body: bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
      scope: scopeFor(`/v2/${repository}/blobs/x`),
    });
    if (put.status !== 201) throw new Error(`PUT upload gave ${put.status}: ${await put.text()}`);

    return digest;
  }

  /** Pushes a small random image (one layer, one config) and returns its parts. */
  async pushImage(repository: string, tag: string, extra: Record<string, unknown> = {}) {
    const layer = randomBytes(1024);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(4).toString('hex') }));
    const layerDigest = await this.pushBlob(repository, layer);
    const configDigest = await this.pushBlob(repository, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
        ...extra,
      }),
    );
    const res = await this.request(`/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      body: manifest,
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    if (res.status !== 201) throw new Error(`PUT manifest gave ${res.status}: ${await res.text()}`);

    return { manifest, digest: sha256(manifest), layer, layerDigest, config, configDigest };
  }
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `repository:<name>:pull,push,delete` for a `/v2/<name>/…` path. */
export function scopeFor(path: string): string {
  // Matched from the right: repository names may contain `blobs` or `manifests` themselves.
  const m = /^\/v2\/(.+)\/(?:blobs\/uploads\/[^/]*|blobs\/[^/]+|manifests\/[^/]+|tags\/list|referrers\/[^/]+)$/.exec(
    new URL(path, 'http://x').pathname,
  );

  return m ? `repository:${m[1]}:pull,push,delete` : '';
}

/** `<location>` with `digest=` added to its query string, as clients must (OCI spec, end-6). */
export function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;
}

/** The session id in an upload location (the last path segment, without the query). */
export function uploadIdOf(location: string): string {
  return new URL(location, 'http://x').pathname.split('/').at(-1)!;
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/** What an upload's `_state` query parameter vouches for. */
export interface UploadState {
  id: string;
  repository: string;
  owner: string;
  algorithm: string | null;
  createdAt: number;
}

/**
 * Signs and checks the `_state` parameter carried in upload locations. A session that has not
 * received a byte yet exists only in its location, so opening one costs no write; once bytes
 * arrive, the metadata store holds it. The signature (HMAC-SHA256 under a key only the
 * registry knows) makes the state unforgeable; it is not secret.
 */
export class UploadStateSigner {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new TypeError('upload state key must be at least 32 bytes');
  }

  sign(state: UploadState): string {
    const body = Buffer.from(
      JSON.stringify([state.id, state.repository, state.owner, state.algorithm, state.createdAt]),
    ).toString('base64url');

    return `${body}.${this.mac(body)}`;
  }

  /** The state, when the value is well formed and signed by this registry; else undefined. */
  verify(value: string | undefined): UploadState | undefined {
    if (!value || value.length > 2048) return undefined;
    const dot = value.indexOf('.');
    if (dot < 0) return undefined;
    const body = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const [id, repository, owner, algorithm, createdAt] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown[];
      if (typeof id !== 'string' || typeof repository !== 'string' || typeof owner !== 'string') return undefined;
      if ((algorithm !== null && typeof algorithm !== 'string') || typeof createdAt !== 'number') return undefined;

      return { id, repository, owner, algorithm, createdAt };
    } catch {
      return undefined;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

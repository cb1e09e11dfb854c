import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_SEALED = 4096;

/**
 * Seals small JSON values with AES-256-GCM under a key only the registry knows, with an expiry
 * inside. A pending sign-in lives only in such a value (the OAuth `state`), so any node sharing
 * the store's secret can finish it and nothing is written until it succeeds. Encryption rather
 * than a signature keeps the PKCE verifier and the nonce away from the browser and the provider.
 */
export class Sealer {
  private readonly key: Buffer;

  constructor(
    secret: Buffer,
    /** Binds sealed values to one purpose, so one kind is never accepted as another. */
    private readonly purpose: string,
  ) {
    if (secret.length < 32) throw new TypeError('the sealing secret must be at least 32 bytes');
    this.key = createHash('sha256').update(secret).digest();
  }

  seal(value: unknown, ttlMs: number, now = Date.now()): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(this.purpose, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify({ exp: now + ttlMs, value }), 'utf8'), cipher.final()]);

    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The value, when it was sealed here for this purpose and has not expired; else undefined. */
  open(sealed: string, now = Date.now()): unknown {
    if (sealed.length > MAX_SEALED || !/^[A-Za-z0-9_-]+$/.test(sealed)) return undefined;
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(this.purpose, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      const { exp, value } = JSON.parse(text) as { exp?: unknown; value?: unknown };

      return typeof exp === 'number' && exp > now ? value : undefined;
    } catch {
      return undefined;
    }
  }
}

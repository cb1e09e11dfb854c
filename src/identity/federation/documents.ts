import { stat, readFile } from 'node:fs/promises';

const MAX_DOCUMENT = 1024 * 1024;
const FETCH_TIMEOUT_MS = 5000;
const FILE_CHECK_MS = 5000;

/** A failure to obtain an issuer's keys, told apart from a bad token. */
export class KeysUnavailable extends Error {}

/**
 * A JSON document read from a file or an https URL (a discovery document, a JWKS, a SPIFFE
 * bundle), kept for `maxAgeMs`. `refresh()` reloads it early (when a token names a key that
 * is not in it) but at most once per `cooldownMs`, so unknown key ids cannot make us hammer
 * the issuer. A file is re-read when its modification time changes.
 */
export class JsonDocument {
  private value: unknown;
  private loadedAt = 0;
  private checkedAt = 0;
  private mtimeMs = -1;
  private pending: Promise<unknown> | undefined;
  private failed = false;

  constructor(
    private readonly source: { url: string } | { file: string },
    private readonly options: { maxAgeMs: number; cooldownMs: number },
  ) {}

  async get(): Promise<unknown> {
    const now = Date.now();
    // A source that just failed is not asked again before the cooldown: forged tokens must not
    // turn an issuer's outage into a flood of fetches.
    if (this.value === undefined && this.failed && now - this.loadedAt < this.options.cooldownMs) {
      throw new KeysUnavailable('the issuer could not be reached a moment ago');
    }
    if (this.value === undefined || now - this.loadedAt > this.options.maxAgeMs) return this.load();
    if ('file' in this.source && now - this.checkedAt > FILE_CHECK_MS) {
      this.checkedAt = now;
      const info = await stat(this.source.file).catch(() => undefined);
      if (info && info.mtimeMs !== this.mtimeMs) return this.load();
    }

    return this.value;
  }

  /** Reloads unless the last load was within the cooldown; true when it did. */
  async refresh(): Promise<boolean> {
    if (Date.now() - this.loadedAt < this.options.cooldownMs) return false;
    await this.load();

    return true;
  }

  /** Overrides how long the document is kept (a SPIFFE bundle says so itself). */
  keepFor(maxAgeMs: number): void {
    this.options.maxAgeMs = maxAgeMs;
  }

  private load(): Promise<unknown> {
    this.pending ??= this.read()
      .then(
        (value) => {
          this.value = value;
          this.failed = false;
          return value;
        },
        (err: unknown) => {
          this.failed = true;
          throw err;
        },
      )
      .finally(() => {
        // Failures count as loads too, so an unreachable issuer is retried at the cooldown pace.
        this.loadedAt = Date.now();
        this.checkedAt = this.loadedAt;
        this.pending = undefined;
      });

    return this.pending;
  }

  private async read(): Promise<unknown> {
    if ('file' in this.source) {
      const info = await stat(this.source.file).catch(() => undefined);
      if (!info || info.size > MAX_DOCUMENT) throw new KeysUnavailable(`cannot read ${this.source.file}`);
      this.mtimeMs = info.mtimeMs;
      return parse(await readFile(this.source.file, 'utf8'), this.source.file);
    }
    const response = await fetch(this.source.url, {
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      redirect: 'error',
      headers: { Accept: 'application/json' },
    }).catch(() => undefined);
    if (!response?.ok) throw new KeysUnavailable(`cannot fetch ${this.source.url}`);
    const body = await response.text();
    if (body.length > MAX_DOCUMENT) throw new KeysUnavailable(`${this.source.url} is too large`);

    return parse(body, this.source.url);
  }
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KeysUnavailable(`${where} is not JSON`);
  }
}

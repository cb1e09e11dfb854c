import { ERROR_CATALOGUE, type ErrorCode } from './codes.js';

/**
 * An error a client is meant to see. Services throw it with a catalogue code; only the HTTP
 * error handler turns it into a status and the OCI error envelope. The message must never
 * contain a token, password or any other secret.
 */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /** Headers the response must carry (for example `Range` on a 416, `Retry-After` on a 429). */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { detail?: unknown; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

/** The OCI error envelope: `{"errors":[{code,message,detail}]}`. */
export function errorEnvelope(err: RegistryError): { errors: unknown[] } {
  const entry: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.detail !== undefined) entry.detail = err.detail;

  return { errors: [entry] };
}

/** True when `err` is a RegistryError carrying `code`. */
export function isRegistryError(err: unknown, code?: ErrorCode): err is RegistryError {
  return err instanceof RegistryError && (code === undefined || err.code === code);
}

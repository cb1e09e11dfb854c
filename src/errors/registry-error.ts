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
  /** The RFC 6749 error code the token endpoint answers with, when the default would be wrong. */
  readonly oauthError: string | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { detail?: unknown; cause?: unknown; headers?: Record<string, string>; oauthError?: string } = {},
  ) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.oauthError = options.oauthError;
  }
}

/** The OCI error envelope: `{"errors":[{code,message,detail}]}`. */
export function errorEnvelope(err: RegistryError): { errors: unknown[] } {
  const entry: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.detail !== undefined) entry.detail = err.detail;

  return { errors: [entry] };
}

const OAUTH_ERRORS: Partial<Record<ErrorCode, string>> = {
  UNAUTHORIZED: 'invalid_grant',
  BAD_REQUEST: 'invalid_request',
  DENIED: 'access_denied',
  TOOMANYREQUESTS: 'temporarily_unavailable',
  UNAVAILABLE: 'temporarily_unavailable',
};

/**
 * The token endpoint's error body: the OCI envelope (what Docker's GET flow reads) together with
 * RFC 6749's `error` and `error_description` (what OAuth2 and RFC 8693 clients read).
 */
export function tokenErrorBody(err: RegistryError): { errors: unknown[]; error: string; error_description: string } {
  return { ...errorEnvelope(err), error: err.oauthError ?? OAUTH_ERRORS[err.code] ?? 'server_error', error_description: err.message };
}

/** True when `err` is a RegistryError carrying `code`. */
export function isRegistryError(err: unknown, code?: ErrorCode): err is RegistryError {
  return err instanceof RegistryError && (code === undefined || err.code === code);
}

import pino, { type Logger } from 'pino';

/**
 * Log field names used across the server, fixed here so every line reads alike. Values that
 * could hold secrets (Authorization, Cookie, passwords, tokens) are never logged; `redact`
 * is a second net behind the allowlist serializers.
 */
export const FIELDS = {
  requestId: 'reqId',
  method: 'method',
  url: 'url',
  status: 'status',
  durationMs: 'durationMs',
  repository: 'repo',
  user: 'user',
  remoteAddress: 'remoteAddress',
} as const;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'portcullis' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.refresh_token'],
      censor: '[redacted]',
    },
  });
}

/** The URL as logged: the query string of `/token` is dropped (it names accounts and scopes). */
export function loggableUrl(url: string): string {
  return url.startsWith('/token') ? url.split('?')[0]! : url;
}

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

/**
 * The server's logger. Lines are written asynchronously in batches so that logging does not
 * cost a system call per request; `flushLogger` runs at shutdown.
 */
export function createLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  destinations.set(level, destination);

  return pino({
    level,
    base: { service: 'portcullis' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.refresh_token'],
      censor: '[redacted]',
    },
  }, destination);
}

const destinations = new Map<string, ReturnType<typeof pino.destination>>();

/** Writes out whatever the loggers still buffer; call before the process exits. */
export function flushLogs(): void {
  for (const destination of destinations.values()) destination.flushSync();
}

/** The URL as logged: the query string of `/token` is dropped (it names accounts and scopes). */
export function loggableUrl(url: string): string {
  return url.startsWith('/token') ? url.split('?')[0]! : url;
}

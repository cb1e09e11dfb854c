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

/** The longest a log line waits in the batch before it is written out. */
const FLUSH_INTERVAL_MS = 1000;

/**
 * The server's logger. Lines are written asynchronously in batches so that logging does not
 * cost a system call per request; a batch is written out within a second even when it is small
 * (so `listening` and a refusal's reason show up at once), and `flushLogs` runs at shutdown.
 */
export function createLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  destinations.set(level, destination);
  const timer = setInterval(() => {
    try {
      destination.flush();
    } catch {
      // Not open yet, or a write is under way: the next tick will do.
    }
  }, FLUSH_INTERVAL_MS);
  timer.unref();

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

/**
 * The URL as logged: the query strings of `/token` (accounts and scopes) and of `/auth/` (the
 * provider's authorization code and the sealed sign-in state) are dropped.
 */
export function loggableUrl(url: string): string {
  const path = url.replace(/^\/+/, '/');

  return path.startsWith('/token') || path.startsWith('/auth/') ? url.split('?')[0]! : url;
}

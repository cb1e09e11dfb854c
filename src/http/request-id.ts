import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const VALID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Uses the client's `X-Request-Id` only when it is short and plain; otherwise a new UUID. */
export function requestId(req: IncomingMessage): string {
  const inbound = req.headers['x-request-id'];

  return typeof inbound === 'string' && VALID.test(inbound) ? inbound : randomUUID();
}

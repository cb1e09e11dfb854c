/** Why an administrative change was refused: bad input, no such thing, or a clash with what exists. */
export type AdminErrorKind = 'invalid' | 'missing' | 'conflict';

/**
 * A refusal the administrator caused, with a message that says what to do. The CLI prints it;
 * the admin API answers 400, 404 or 409 with it. Never carries a secret.
 */
export class AdminError extends Error {
  constructor(
    readonly kind: AdminErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export const invalid = (message: string) => new AdminError('invalid', message);
export const missing = (message: string) => new AdminError('missing', message);
export const conflict = (message: string) => new AdminError('conflict', message);

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Reads `90d`, `12h`, `30m` or `45s` as milliseconds. */
export function duration(text: string, what: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text);
  if (!match) throw invalid(`${what} must look like 90d, 12h, 30m or 45s`);

  return Number(match[1]) * UNITS[match[2]!]!;
}

export const DAY_MS = UNITS.d!;

/** Names of users, robots, rules and issuer aliases. */
export const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

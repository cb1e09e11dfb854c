/** How hard repeated login failures are slowed down. */
export interface ThrottlePolicy {
  /** Failures of one account name before it must wait. */
  accountFailures: number;
  /** Failures from one client address (over all names) before it must wait. */
  addressFailures: number;
  /** The longest wait, in seconds. */
  maxBackoffSeconds: number;
  /** Failures older than this many seconds are forgotten. */
  windowSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  accountFailures: 5,
  addressFailures: 20,
  maxBackoffSeconds: 900,
  windowSeconds: 900,
};

interface Record {
  failures: number;
  last: number;
  blockedUntil: number;
}

const MAX_ENTRIES = 100_000;

/**
 * Backoff for password guessing, per account name and per client address. Once the allowed
 * number of failures is reached the caller waits 1 s, and each further failure doubles the
 * wait (2 s, 4 s … up to the maximum);
 * a success clears the account's record. Names are counted whether or not the account exists,
 * so the answer never tells them apart. The state is per process: on several nodes each
 * keeps its own count.
 */
export class LoginThrottle {
  private readonly accounts = new Map<string, Record>();
  private readonly addresses = new Map<string, Record>();

  constructor(private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE) {}

  /**
   * Seconds the caller must wait before trying again, or 0 when it may try now. A null account
   * (a federated token, whose issuer alias is shared by every workload) counts the address only.
   */
  retryAfter(account: string | null, address: string, now = Date.now()): number {
    const accountWait = account === null ? 0 : this.waitOf(this.accounts, account, now);
    const wait = Math.max(accountWait, this.waitOf(this.addresses, address, now));

    return Math.ceil(wait / 1000);
  }

  failed(account: string | null, address: string, now = Date.now()): void {
    if (account !== null) this.bump(this.accounts, account, this.policy.accountFailures, now);
    this.bump(this.addresses, address, this.policy.addressFailures, now);
  }

  succeeded(account: string): void {
    this.accounts.delete(account);
  }

  private waitOf(records: Map<string, Record>, key: string, now: number): number {
    const record = records.get(key);
    if (!record) return 0;
    if (now - record.last > this.policy.windowSeconds * 1000) {
      records.delete(key);
      return 0;
    }

    return Math.max(record.blockedUntil - now, 0);
  }

  private bump(records: Map<string, Record>, key: string, allowed: number, now: number): void {
    let record = records.get(key);
    if (!record || now - record.last > this.policy.windowSeconds * 1000) {
      record = { failures: 0, last: now, blockedUntil: 0 };
    }
    records.delete(key);
    if (records.size >= MAX_ENTRIES) records.delete(records.keys().next().value!);
    record.failures++;
    record.last = now;
    const over = record.failures - allowed + 1;
    if (over > 0) {
      const seconds = Math.min(2 ** (over - 1), this.policy.maxBackoffSeconds);
      record.blockedUntil = now + seconds * 1000;
    }
    records.set(key, record);
  }
}

import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './throttle.js';

const policy = { accountFailures: 3, addressFailures: 5, maxBackoffSeconds: 8, windowSeconds: 60 };

describe('LoginThrottle', () => {
  it('lets the allowed failures through, then doubles the wait up to the maximum', () => {
    const t = new LoginThrottle(policy);
    const now = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfter('alice', `a${i}`, now)).toBe(0);
      t.failed('alice', `a${i}`, now);
    }
    expect(t.retryAfter('alice', 'a3', now)).toBe(1);
    t.failed('alice', 'a3', now);
    expect(t.retryAfter('alice', 'a4', now)).toBe(2);
    for (let i = 0; i < 10; i++) t.failed('alice', `b${i}`, now);
    expect(t.retryAfter('alice', 'zz', now)).toBe(8);
    expect(t.retryAfter('alice', 'zz', now + 8000)).toBe(0);
  });

  it('counts names that do not exist exactly like real ones', () => {
    const t = new LoginThrottle(policy);
    for (let i = 0; i < 4; i++) t.failed('nobody', `x${i}`, 0);
    for (let i = 0; i < 4; i++) t.failed('alice', `y${i}`, 0);
    expect(t.retryAfter('nobody', 'q', 0)).toBe(t.retryAfter('alice', 'q', 0));
  });

  it('slows one address that guesses across many names', () => {
    const t = new LoginThrottle(policy);
    for (let i = 0; i < 5; i++) t.failed(`user${i}`, '10.0.0.9', 0);
    expect(t.retryAfter('someone-else', '10.0.0.9', 0)).toBe(1);
    expect(t.retryAfter('someone-else', '10.0.0.10', 0)).toBe(0);
  });

  it('clears an account on success and forgets failures after the window', () => {
    const t = new LoginThrottle(policy);
    for (let i = 0; i < 4; i++) t.failed('alice', `a${i}`, 0);
    t.succeeded('alice');
    expect(t.retryAfter('alice', 'new', 0)).toBe(0);
    for (let i = 0; i < 4; i++) t.failed('bob', `b${i}`, 0);
    expect(t.retryAfter('bob', 'new', 61_000)).toBe(0);
  });
});

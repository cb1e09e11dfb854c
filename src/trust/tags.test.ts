import { describe, expect, it } from 'vitest';
import type { TrustPolicy } from './policy/document.js';
import { attachedTo, tagMoveProblem } from './tags.js';

const policy = (over: Partial<TrustPolicy> = {}): TrustPolicy => ({
  mode: 'enforce',
  signers: [],
  requireSignature: false,
  attestations: [],
  immutableTags: ['v*'],
  rollback: 'deny',
  stagedDelivery: false,
  ...over,
});
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

describe('tagMoveProblem', () => {
  it('allows a new tag, the same target again, and any move without a policy', () => {
    expect(tagMoveProblem(policy(), { tag: 'v1', next: { digest: A, receivedAt: 1 }, namedBefore: false })).toBeUndefined();
    expect(tagMoveProblem(policy(), { tag: 'v1', current: { digest: A, receivedAt: 1 }, next: { digest: A, receivedAt: 1 }, namedBefore: true })).toBeUndefined();
    expect(tagMoveProblem(undefined, { tag: 'v1', current: { digest: A, receivedAt: 2 }, next: { digest: B, receivedAt: 1 }, namedBefore: true })).toBeUndefined();
  });

  it('refuses moving an immutable tag', () => {
    expect(tagMoveProblem(policy(), { tag: 'v1.2', current: { digest: A, receivedAt: 1 }, next: { digest: B, receivedAt: 2 }, namedBefore: false })).toBe(
      `tag v1.2 is immutable (pattern v*) and points at ${A}`,
    );
  });

  it('refuses a move back to a former target or to an older manifest, unless rollback is allowed', () => {
    const back = { tag: 'latest', current: { digest: A, receivedAt: 1 }, next: { digest: B, receivedAt: 2 }, namedBefore: true };
    expect(tagMoveProblem(policy(), back)).toBe(`rollback refused: tag latest pointed at ${B} before`);
    const older = { tag: 'latest', current: { digest: A, receivedAt: 5 }, next: { digest: B, receivedAt: 2 }, namedBefore: false };
    expect(tagMoveProblem(policy(), older)).toBe(`rollback refused: ${B} is older than ${A}, the current target of tag latest`);
    expect(tagMoveProblem(policy({ rollback: 'allow' }), older)).toBeUndefined();
    expect(tagMoveProblem(policy(), { ...older, next: { digest: B, receivedAt: 9 } })).toBeUndefined();
  });
});

describe('attachedTo', () => {
  it('reads the signed digest from cosign and referrers-fallback tags', () => {
    expect(attachedTo(`sha256-${'a'.repeat(64)}.sig`)).toBe(A);
    expect(attachedTo(`sha256-${'a'.repeat(64)}.att`)).toBe(A);
    expect(attachedTo(`sha256-${'a'.repeat(64)}`)).toBe(A);
    expect(attachedTo('v1.0')).toBeUndefined();
    expect(attachedTo(`sha256-${'a'.repeat(63)}.sig`)).toBeUndefined();
  });
});

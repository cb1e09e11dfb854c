import type { TrustPolicy } from './policy/document.js';
import { globMatch } from './policy/glob.js';

/** The immutable-tag pattern that covers `tag`, if any. */
export function immutablePattern(policy: TrustPolicy | undefined, tag: string): string | undefined {
  return policy?.immutableTags.find((p) => globMatch(p, tag));
}

export interface TagMoveFacts {
  tag: string;
  /** The tag's current target and when the repository first received it; absent for a new tag. */
  current?: { digest: string; receivedAt: number };
  /** For a tag that was deleted: the last manifest it named, when the repository still holds it. */
  previous?: { digest: string; receivedAt: number };
  /** The manifest the tag would move to, and when the repository received it (now for a new push). */
  next: { digest: string; receivedAt: number };
  /** Whether the tag ever pointed at `next` before. */
  namedBefore: boolean;
}

/**
 * Why the namespace's tag rules forbid the move, or undefined when they allow it. Age is the
 * registry's own receipt time, which a pusher cannot forge, not the image's `created` claim.
 */
export function tagMoveProblem(policy: TrustPolicy | undefined, facts: TagMoveFacts): string | undefined {
  const { tag, current, next } = facts;
  if (!policy || current?.digest === next.digest) return undefined;
  const pattern = immutablePattern(policy, tag);
  if (pattern && current) return `tag ${tag} is immutable (pattern ${pattern}) and points at ${current.digest}`;
  if (policy.rollback === 'allow' || (!current && !facts.previous && !facts.namedBefore)) return undefined;
  if (facts.namedBefore) return `rollback refused: tag ${tag} pointed at ${next.digest} before`;
  const against = current ?? facts.previous!;
  if (next.receivedAt < against.receivedAt) {
    return `rollback refused: ${next.digest} is older than ${against.digest}, the ${current ? 'current' : 'last'} target of tag ${tag}`;
  }

  return undefined;
}

/** Tags that carry a signed object's signatures: cosign's `sha256-<hex>.sig|.att|.sbom` and the referrers fallback `sha256-<hex>`. */
const ATTACHMENT_TAG = /^(sha256|sha512)-([a-f0-9]{64}|[a-f0-9]{128})(\.sig|\.att|\.sbom)?$/;

/** The digest whose signatures, attestations or referrers a tag holds, if it is such a tag. */
export function attachedTo(tag: string): string | undefined {
  const m = ATTACHMENT_TAG.exec(tag);

  return m ? `${m[1]}:${m[2]}` : undefined;
}

import type { ContentStore } from '../storage/metadata/content.js';
import type { TrustStore } from '../storage/metadata/trust.js';
import type { TrustState } from './state.js';
import { attachedTo, immutablePattern, tagMoveProblem } from './tags.js';

/**
 * The namespace's tag rules on push and delete: immutable tags, no rollback, and the
 * signatures of an immutably tagged manifest kept. Each check returns why the change is
 * refused, or undefined.
 */
export class TagRules {
  constructor(
    private readonly state: TrustState,
    private readonly content: ContentStore,
    private readonly trust: TrustStore,
  ) {}

  /** May `tag` move to `digest`? `digest` need not be stored yet (a push names it first). */
  async moveProblem(repository: string, tag: string, digest: string): Promise<string | undefined> {
    const policy = (await this.state.policyFor(repository))?.policy;
    if (!policy) return undefined;
    const current = await this.content.tagTarget(repository, tag);
    if (current === undefined || current === digest) return undefined;
    const now = Date.now();

    return tagMoveProblem(policy, {
      tag,
      current: { digest: current, receivedAt: (await this.content.manifestCreatedAt(repository, current)) ?? now },
      next: { digest, receivedAt: (await this.content.manifestCreatedAt(repository, digest)) ?? now },
      namedBefore: await this.trust.taggedBefore(repository, tag, digest),
    });
  }

  /** May the tag be deleted? */
  async tagDeleteProblem(repository: string, tag: string): Promise<string | undefined> {
    const policy = (await this.state.policyFor(repository))?.policy;
    const pattern = immutablePattern(policy, tag);
    if (pattern) return `tag ${tag} is immutable (pattern ${pattern})`;
    const signed = attachedTo(tag);

    return signed ? this.protectedProblem(repository, signed, `tag ${tag}`) : undefined;
  }

  /** May the manifest be deleted? Not while an immutable tag names it or it signs one that is. */
  async manifestDeleteProblem(repository: string, digest: string): Promise<string | undefined> {
    const policy = (await this.state.policyFor(repository))?.policy;
    if (!policy || policy.immutableTags.length === 0) return undefined;
    for (const tag of await this.content.tagsOf(repository, digest)) {
      const pattern = immutablePattern(policy, tag);
      if (pattern) return `${digest} carries immutable tag ${tag} (pattern ${pattern})`;
      const signed = attachedTo(tag);
      const problem = signed && (await this.protectedProblem(repository, signed, digest));
      if (problem) return problem;
    }
    const subject = (await this.content.manifest(repository, digest))?.subject;

    return subject ? this.protectedProblem(repository, subject, digest) : undefined;
  }

  /** Refuses removing `what` when it is attached to a manifest that carries an immutable tag. */
  private async protectedProblem(repository: string, signed: string, what: string): Promise<string | undefined> {
    const policy = (await this.state.policyFor(repository))?.policy;
    for (const tag of await this.content.tagsOf(repository, signed)) {
      const pattern = immutablePattern(policy, tag);
      if (pattern) return `${what} holds signatures or attestations of ${signed}, which carries immutable tag ${tag} (pattern ${pattern})`;
    }

    return undefined;
  }
}

import type { ContentStore } from '../storage/metadata/content.js';
import type { ManifestGraph } from '../storage/metadata/manifest-graph.js';
import type { TrustStore } from '../storage/metadata/trust.js';
import { layersOf } from './artifacts.js';
import type { TrustPolicy } from './policy/document.js';
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
    private readonly graph: ManifestGraph,
    private readonly trust: TrustStore,
  ) {}

  /**
   * May `tag` move to `digest`? `digest` need not be stored yet (a push names it first; its
   * bytes are `content`). A tag deleted earlier is judged against the last manifest it named,
   * so that deleting a tag first is no way around the rollback rule.
   */
  async moveProblem(repository: string, tag: string, digest: string, content?: Buffer): Promise<string | undefined> {
    return (await this.checkMove(repository, tag, digest, content)).problem;
  }

  /**
   * The tag rules' answer, and the tag's target they judged against (null: no tag; undefined:
   * no rules apply), which the push hands to the store so that the move only happens if the tag
   * has not moved since.
   */
  async checkMove(repository: string, tag: string, digest: string, content?: Buffer): Promise<{ problem?: string; current?: string | null }> {
    const policy = (await this.state.policyFor(repository))?.policy;
    if (!policy) return {};
    const current = (await this.graph.tagTarget(repository, tag)) ?? null;

    return { current, problem: await this.judgeMove(policy, repository, tag, digest, current ?? undefined, content) };
  }

  private async judgeMove(policy: TrustPolicy, repository: string, tag: string, digest: string, current: string | undefined, content?: Buffer): Promise<string | undefined> {
    if (current === digest) return undefined;
    const signed = attachedTo(tag);
    if (signed && current !== undefined) {
      const problem = await this.attachmentMoveProblem(repository, tag, signed, current, content);
      if (problem) return problem;
    }
    const last = current ?? (await this.trust.tagHistory(repository, tag)).findLast((m) => m.digest !== null)?.digest ?? undefined;
    if (last === undefined || last === digest) return undefined;
    const now = Date.now();
    const lastReceived = await this.graph.manifestCreatedAt(repository, last);

    return tagMoveProblem(policy, {
      tag,
      current: current === undefined ? undefined : { digest: current, receivedAt: lastReceived ?? now },
      previous: current === undefined && lastReceived !== undefined ? { digest: last, receivedAt: lastReceived } : undefined,
      next: { digest, receivedAt: (await this.graph.manifestCreatedAt(repository, digest)) ?? now },
      namedBefore: await this.trust.taggedBefore(repository, tag, digest),
    });
  }

  /**
   * The `.sig`/`.att` tag of a manifest that carries an immutable tag may only move to a
   * manifest that keeps every signature layer it had (cosign appends signatures that way);
   * anything else would drop the release's signatures.
   */
  private async attachmentMoveProblem(repository: string, tag: string, signed: string, current: string, content: Buffer | undefined): Promise<string | undefined> {
    const problem = await this.protectedProblem(repository, signed, `tag ${tag}`);
    if (!problem) return undefined;
    const before = new Set(layersOf((await this.content.manifest(repository, current))?.content ?? Buffer.alloc(0)).map((l) => l.digest));
    const after = new Set(layersOf(content ?? Buffer.alloc(0)).map((l) => l.digest));
    const dropped = [...before].filter((d) => !after.has(d));

    return dropped.length > 0 ? `${problem}; the new manifest drops ${dropped.length} of its signature layer(s)` : undefined;
  }

  /** May the tag be deleted? */
  async tagDeleteProblem(repository: string, tag: string): Promise<string | undefined> {
    const policy = (await this.state.policyFor(repository))?.policy;
    const pattern = immutablePattern(policy, tag);
    if (pattern) return `tag ${tag} is immutable (pattern ${pattern})`;
    const signed = attachedTo(tag);

    return signed ? this.protectedProblem(repository, signed, `tag ${tag}`) : undefined;
  }

  /**
   * May the manifest be deleted? Not while an immutable tag names it or an index holding it, nor
   * while it carries the signatures of such a manifest.
   */
  async manifestDeleteProblem(repository: string, digest: string): Promise<string | undefined> {
    const policy = (await this.state.policyFor(repository))?.policy;
    if (!policy || policy.immutableTags.length === 0) return undefined;
    const held = await this.heldBy(repository, digest, policy);
    if (held) return `${digest} ${held}`;
    for (const tag of await this.graph.tagsOf(repository, digest)) {
      const signed = attachedTo(tag);
      const problem = signed && (await this.protectedProblem(repository, signed, digest));
      if (problem) return problem;
    }
    const subject = (await this.content.manifest(repository, digest))?.subject;

    return subject ? this.protectedProblem(repository, subject, digest) : undefined;
  }

  /** May the blob be unlinked from the repository? Not while a manifest under an immutable tag uses it. */
  async blobDeleteProblem(repository: string, digest: string): Promise<string | undefined> {
    const policy = (await this.state.policyFor(repository))?.policy;
    if (!policy || policy.immutableTags.length === 0) return undefined;
    const held = await this.heldBy(repository, digest, policy);

    return held && `blob ${digest} ${held}`;
  }

  /**
   * How an immutable tag holds `digest`: on the manifest itself, or on a manifest or index that
   * lists it (two levels up: index → image → blob). Undefined when none does.
   */
  private async heldBy(repository: string, digest: string, policy: TrustPolicy): Promise<string | undefined> {
    const holder = await this.immutableHolder(repository, digest, policy, 0);
    if (!holder) return undefined;
    const rule = `immutable tag ${holder.tag} (pattern ${holder.pattern})`;

    return holder.digest === digest ? `carries ${rule}` : `is part of ${holder.digest}, which carries ${rule}`;
  }

  private async immutableHolder(repository: string, digest: string, policy: TrustPolicy, depth: number): Promise<{ digest: string; tag: string; pattern: string } | undefined> {
    for (const tag of await this.graph.tagsOf(repository, digest)) {
      const pattern = immutablePattern(policy, tag);
      if (pattern) return { digest, tag, pattern };
    }
    if (depth >= 2) return undefined;
    for (const parent of await this.graph.parents(repository, digest)) {
      const holder = await this.immutableHolder(repository, parent, policy, depth + 1);
      if (holder) return holder;
    }

    return undefined;
  }

  /** Refuses removing `what` when it is attached to a manifest that carries an immutable tag. */
  private async protectedProblem(repository: string, signed: string, what: string): Promise<string | undefined> {
    const policy = (await this.state.policyFor(repository))?.policy;
    for (const tag of await this.graph.tagsOf(repository, signed)) {
      const pattern = immutablePattern(policy, tag);
      if (pattern) return `${what} holds signatures or attestations of ${signed}, which carries immutable tag ${tag} (pattern ${pattern})`;
    }

    return undefined;
  }
}

import { INDEX_TYPES } from '../oci/media-types.js';
import type { BlobDriver } from '../storage/blobs/driver.js';
import type { ContentStore, ManifestRecord } from '../storage/metadata/content.js';
import type { ManifestGraph } from '../storage/metadata/manifest-graph.js';
import type { QuarantineRecord } from '../storage/metadata/trust.js';
import { isAttachment, type Verifiers } from './artifacts.js';
import { attachments, verifyAttachments } from './collect.js';
import { judge, type Verdict } from './policy/judge.js';
import type { ActivePolicy, TrustState } from './state.js';

/** What the trust policy says about one pull. */
export interface PullCheck {
  /** Why the pull is refused; undefined when it may go out. */
  refusal?: string;
  /** In `audit` mode: what enforcing would have refused. */
  wouldRefuse?: string;
  /** A staged digest whose checks now pass, released by this pull. */
  released?: QuarantineRecord;
}

export interface VerdictCacheOptions {
  /** How long a verdict is reused while nothing attached to the manifest changes. */
  ttlMs: number;
  maxEntries: number;
}

/** Signed indexes consulted when a platform manifest is not signed itself. */
const MAX_PARENTS = 8;

/**
 * Decides whether a manifest may be pulled: quarantine first, then the namespace's signature
 * and attestation policy. Verdicts are cached per digest, policy version and the set of
 * attachments, so a new signature (or a removed one) is seen on the next pull.
 */
export class PullGate {
  private readonly cache = new Map<string, { verdict: Verdict; at: number }>();
  private readonly running = new Map<string, Promise<Verdict>>();

  constructor(
    private readonly state: TrustState,
    private readonly content: ContentStore,
    private readonly graph: ManifestGraph,
    private readonly driver: BlobDriver,
    private readonly verifiers: Verifiers,
    private readonly options: VerdictCacheOptions,
    /** Told when a staged digest is released because its checks passed. */
    private readonly releaseStaged: (digest: string) => Promise<QuarantineRecord | undefined>,
  ) {}

  /** With `dryRun`, nothing is released: what `trust check` uses to say what a pull would get. */
  async check(manifest: ManifestRecord, dryRun = false): Promise<PullCheck> {
    const quarantine = await this.state.quarantined(manifest.digest);
    const active = await this.state.policyFor(manifest.repository);
    if (quarantine && quarantine.kind !== 'staged') return { refusal: `${manifest.digest} is quarantined: ${quarantine.reason}` };
    if (!active) return quarantine ? { refusal: `${manifest.digest} is quarantined: ${quarantine.reason}` } : {};
    if (!active.policy) return { refusal: active.problem };

    const attachment = isAttachment(manifest.subject, manifest.artifactType, manifest.content);
    const needsVerdict = !attachment && (active.policy.requireSignature || active.policy.attestations.length > 0);
    const verdict = needsVerdict ? await this.verdictWithParents(manifest, active) : undefined;
    const failed = verdict && !verdict.allowed ? `trust policy of namespace ${active.namespace}: ${verdict.reasons.join('; ')}` : undefined;

    if (quarantine) {
      // Staged delivery: the digest waits until the checks of the namespace it was pushed to
      // pass; the first pull there after that releases it. A pull elsewhere releases nothing.
      if (failed || active.namespace !== quarantine.namespace) {
        return { refusal: `${manifest.digest} is quarantined: ${quarantine.reason}${failed ? ` (${failed})` : ''}` };
      }
      return dryRun ? {} : { released: await this.releaseStaged(manifest.digest) };
    }
    if (!failed) return {};

    return active.policy.mode === 'enforce' ? { refusal: failed } : { wouldRefuse: failed };
  }

  /** The verdict for the manifest, or for an index in the repository that holds it and passes. */
  async verdictWithParents(manifest: ManifestRecord, active: ActivePolicy): Promise<Verdict> {
    const own = await this.verdict(manifest, active);
    if (own.allowed) return own;
    for (const parent of await this.graph.signedIndexesHolding(manifest.repository, manifest.digest, [...INDEX_TYPES], MAX_PARENTS)) {
      const index = await this.content.manifest(manifest.repository, parent);
      if (!index) continue;
      const through = await this.verdict(index, active);
      if (through.allowed) return { ...through, satisfied: through.satisfied.map((s) => `${s}, through index ${parent}`) };
    }

    return own;
  }

  /** The policy's verdict for the manifest's own signatures and attestations. */
  async verdict(manifest: ManifestRecord, active: ActivePolicy): Promise<Verdict> {
    const found = await attachments(this.content, this.graph, manifest.repository, manifest.digest);
    const key = `${manifest.repository}\u0000${manifest.digest}\u0000${active.namespace}@${active.version}\u0000${found.map((f) => f.digest).join(',')}`;
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.at < this.options.ttlMs) return cached.verdict;
    // Pulls of the same manifest that arrive while it is being verified share that work.
    let running = this.running.get(key);
    if (!running) {
      running = verifyAttachments(this.content, this.driver, manifest, found, active.anchors!, this.verifiers)
        .then((outcomes) => {
          const verdict = judge(active.policy!, outcomes);
          this.remember(key, verdict);

          return verdict;
        })
        .finally(() => this.running.delete(key));
      this.running.set(key, running);
    }

    return running;
  }

  private remember(key: string, verdict: Verdict): void {
    this.cache.delete(key);
    this.cache.set(key, { verdict, at: Date.now() });
    if (this.cache.size > this.options.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}

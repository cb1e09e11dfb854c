import type { Config } from '../config/schema.js';
import type { BlobDriver } from '../storage/blobs/driver.js';
import type { ManifestRecord } from '../storage/metadata/content.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { isAttachment, type Verifiers } from './artifacts.js';
import { PullGate } from './pull.js';
import type { ScanPool } from './scan/pool.js';
import { SecretScanner } from './scanning.js';
import { TagRules } from './push.js';
import { TrustState } from './state.js';

/** What decides whether content may go out or come in: the pull gate, tag rules and their shared state. */
export class TrustService {
  readonly state: TrustState;
  readonly gate: PullGate;
  readonly tags: TagRules;
  readonly scanner: SecretScanner;

  constructor(
    private readonly store: MetadataStore,
    driver: BlobDriver,
    verifiers: Verifiers,
    config: Config,
    onScanError: (err: unknown, digest: string) => void = () => undefined,
    scanPool?: ScanPool,
  ) {
    this.state = new TrustState(store);
    this.gate = new PullGate(
      this.state,
      store.content,
      store.graph,
      driver,
      verifiers,
      { ttlMs: config.trust.verdictCacheSeconds * 1000, maxEntries: 10_000 },
      (digest) => store.trust.release(digest),
    );
    this.tags = new TagRules(this.state, store.content, store.graph, store.trust);
    this.scanner = new SecretScanner(store, driver, this.state, config.trust.secretScan, onScanError, scanPool);
  }

  /**
   * Before a manifest is stored: with staged delivery, a new image waits in quarantine until
   * its namespace's checks pass (the first pull there after they do releases it). Quarantined
   * before it is stored, so that no crash can leave it stored and pullable. Attachments are
   * never staged, since verifiers must be able to read them.
   */
  async stageBeforePush(manifest: ManifestRecord): Promise<boolean> {
    const active = await this.state.policyFor(manifest.repository);
    if (!active?.policy?.stagedDelivery || isAttachment(manifest.subject, manifest.artifactType, manifest.content)) return false;
    if ((await this.gate.verdictWithParents(manifest, active)).allowed) return false;

    return this.store.trust.quarantine({
      digest: manifest.digest,
      kind: 'staged',
      namespace: active.namespace,
      reason: `staged delivery: waiting until the checks of namespace ${active.namespace} pass`,
      actor: 'portcullis',
    });
  }

  /**
   * Quarantines what the secret scanner flagged: in mode `quarantine` the manifest and the blobs
   * holding secrets, in mode `block` the blobs (already uploaded, though the manifest is refused).
   */
  async quarantineFindings(digests: string[], reason: string): Promise<void> {
    for (const digest of new Set(digests)) await this.store.trust.quarantine({ digest, kind: 'scanner', reason, actor: 'secret-scanner' });
  }

  /** Why a blob may not be pulled (it is quarantined), or undefined. */
  async blobProblem(digest: string): Promise<string | undefined> {
    const q = await this.state.quarantined(digest);

    return q && `${digest} is quarantined: ${q.reason}`;
  }
}

export type { PullCheck } from './pull.js';
export type { Verifiers } from './artifacts.js';
export { describeScan, scanLimits, type ManifestScan } from './scanning.js';
export { openScanPool, type ScanPool } from './scan/pool.js';

import type { Config } from '../config/schema.js';
import type { BlobDriver } from '../storage/blobs/driver.js';
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
      driver,
      verifiers,
      { ttlMs: config.trust.verdictCacheSeconds * 1000, maxEntries: 10_000 },
      (digest) => store.trust.release(digest),
    );
    this.tags = new TagRules(this.state, store.content, store.trust);
    this.scanner = new SecretScanner(store, driver, this.state, config.trust.secretScan, onScanError, scanPool);
  }

  /**
   * After a manifest is stored: with staged delivery, a new image waits in quarantine until
   * its checks pass (the first pull after they do releases it). Attachments are never staged,
   * since verifiers must be able to read them.
   */
  async afterPush(repository: string, digest: string): Promise<boolean> {
    const active = await this.state.policyFor(repository);
    if (!active?.policy?.stagedDelivery) return false;
    const manifest = await this.store.content.manifest(repository, digest);
    if (!manifest || isAttachment(manifest.subject, manifest.artifactType, manifest.content)) return false;
    if ((await this.gate.verdictWithParents(manifest, active)).allowed) return false;

    return this.store.trust.quarantine({ digest: manifest.digest, kind: 'staged', reason: 'staged delivery: waiting until its signature and attestation checks pass', actor: 'portcullis' });
  }

  /**
   * Quarantines a manifest whose push the secret scanner flagged (namespace mode
   * `quarantine`), and the layers holding the secrets, so that neither can be pulled.
   */
  async quarantineFindings(digest: string, layers: string[], reason: string): Promise<void> {
    for (const d of [digest, ...new Set(layers)]) await this.store.trust.quarantine({ digest: d, kind: 'scanner', reason, actor: 'secret-scanner' });
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

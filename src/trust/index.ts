import type { Config } from '../config/schema.js';
import type { BlobDriver } from '../storage/blobs/driver.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import type { Verifiers } from './artifacts.js';
import { PullGate } from './pull.js';
import { TagRules } from './push.js';
import { TrustState } from './state.js';

/** What decides whether content may go out or come in: the pull gate, tag rules and their shared state. */
export class TrustService {
  readonly state: TrustState;
  readonly gate: PullGate;
  readonly tags: TagRules;

  constructor(store: MetadataStore, driver: BlobDriver, verifiers: Verifiers, config: Config) {
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
  }

  /** Why a blob may not be pulled (it is quarantined), or undefined. */
  async blobProblem(digest: string): Promise<string | undefined> {
    const q = await this.state.quarantined(digest);

    return q && `${digest} is quarantined: ${q.reason}`;
  }
}

export type { PullCheck } from './pull.js';
export type { Verifiers } from './artifacts.js';

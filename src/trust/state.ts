import { inNamespace } from '../oci/names.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { Reloading } from '../storage/metadata/reloading.js';
import type { QuarantineRecord } from '../storage/metadata/trust.js';
import { anchorsOf } from './policy/anchors.js';
import { resolvePolicy, type TrustPolicy } from './policy/document.js';
import type { Anchors } from './verify/evidence.js';

/** A namespace's policy as a node holds it: parsed once per change, with its anchors built. */
export interface ActivePolicy {
  namespace: string;
  version: number;
  source: 'config' | 'api';
  /** Undefined when the stored document no longer parses; pulls in the namespace are then refused. */
  policy?: TrustPolicy;
  anchors?: Anchors;
  problem?: string;
}

interface Snapshot {
  generation: string;
  /** Longest namespace first, so the first match is the most specific. */
  policies: ActivePolicy[];
  quarantine: Map<string, QuarantineRecord>;
}

/**
 * Trust policies and quarantined digests, reloaded whenever the metadata store reports a
 * change (on PostgreSQL, a change on any node), so that a quarantine bites on the next pull.
 */
export class TrustState {
  private readonly snapshots: Reloading<Snapshot>;

  constructor(private readonly store: MetadataStore) {
    this.snapshots = new Reloading(store.changes, (generation) => this.load(generation));
  }

  /** The policy governing `repository`: that of the longest namespace containing it. */
  async policyFor(repository: string): Promise<ActivePolicy | undefined> {
    return (await this.current()).policies.find((p) => inNamespace(repository, p.namespace));
  }

  async quarantined(digest: string): Promise<QuarantineRecord | undefined> {
    return (await this.current()).quarantine.get(digest);
  }

  async policies(): Promise<ActivePolicy[]> {
    return (await this.current()).policies;
  }

  private current(): Promise<Snapshot> {
    return this.snapshots.current();
  }

  private async load(generation: string): Promise<Snapshot> {
    const [records, quarantined] = await Promise.all([this.store.trust.policies(), this.store.trust.quarantined()]);
    const policies = records.map((r): ActivePolicy => {
      const base = { namespace: r.namespace, version: r.version, source: r.source };
      try {
        const policy = resolvePolicy(JSON.parse(r.document));

        return { ...base, policy, anchors: anchorsOf(policy) };
      } catch (err) {
        return { ...base, problem: `the trust policy of namespace ${r.namespace} cannot be read (${(err as Error).message.slice(0, 200)})` };
      }
    });
    policies.sort((a, b) => (b.namespace === '*' ? -1 : a.namespace === '*' ? 1 : b.namespace.length - a.namespace.length));
    return { generation, policies, quarantine: new Map(quarantined.map((q) => [q.digest, q])) };
  }
}

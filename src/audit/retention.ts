import type { AuditSummary, MetadataStore } from '../storage/metadata/index.js';
import { signatureProblem, type CheckpointSigner } from './checkpoints.js';

const content = (s: Omit<AuditSummary, 'kid' | 'publicJwk' | 'signature'>) => ({
  firstSeq: s.firstSeq,
  lastSeq: s.lastSeq,
  events: s.events,
  lastHash: s.lastHash,
  at: s.at,
});

/**
 * Prunes the audit events recorded before `before`. What goes leaves a signed summary (which
 * events, and the hash the chain goes on from), so `audit verify` still checks the rest.
 */
export async function pruneAudit(store: MetadataStore, before: number, sign: CheckpointSigner): Promise<AuditSummary | undefined> {
  return store.audit.prune(before, async (range) => {
    const summary = { ...range, at: Date.now() };
    const { kid, publicJwk, jws } = await sign(new TextEncoder().encode(JSON.stringify(content(summary))));

    return { ...summary, kid, publicJwk: JSON.stringify(publicJwk), signature: jws };
  });
}

/** Why a summary cannot be trusted, or undefined. */
export async function summaryProblem(summary: AuditSummary, trusted?: Set<string>): Promise<string | undefined> {
  const problem = await signatureProblem(summary, content(summary), trusted);

  return problem && `the summary of pruned events ${summary.firstSeq}–${summary.lastSeq} ${problem}`;
}

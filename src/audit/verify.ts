import { AUDIT_GENESIS } from '../storage/metadata/migrations.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { linkHash } from './chain.js';
import { checkpointProblem } from './checkpoints.js';
import { summaryProblem } from './retention.js';

export type ChainReport =
  | { intact: true; events: number; head: string }
  | { intact: false; events: number; seq: number; problem: string };

const PAGE = 2000;

/**
 * Walks the audit chain from the first event and reports the first one that was edited,
 * deleted or moved, or that the chain is intact up to the recorded head. Signed checkpoints
 * catch a chain rewritten from some event on (every hash recomputed) and a cut-off end.
 */
export async function verifyChain(store: MetadataStore, trustedKeys?: Set<string>): Promise<ChainReport> {
  const checkpoints = new Map((await store.audit.checkpoints()).map((c) => [c.seq, c]));
  for (const checkpoint of checkpoints.values()) {
    const problem = await checkpointProblem(checkpoint, trustedKeys);
    if (problem) return broken(0, checkpoint.seq, problem);
  }
  // Pruned stretches are vouched for by their signed summaries; the chain goes on from the last.
  let expectedSeq = 1;
  let prev = AUDIT_GENESIS;
  for (const summary of await store.audit.summaries()) {
    const problem = await summaryProblem(summary, trustedKeys);
    if (problem) return broken(0, summary.firstSeq, problem);
    if (summary.firstSeq !== expectedSeq) return broken(0, expectedSeq, `events ${expectedSeq}–${summary.firstSeq - 1} are missing (deleted)`);
    expectedSeq = summary.lastSeq + 1;
    prev = summary.lastHash;
  }
  let events = 0;
  for (;;) {
    const page = await store.audit.page(expectedSeq - 1, PAGE);
    for (const row of page) {
      if (row.seq !== expectedSeq) {
        const gap = row.seq - 1 === expectedSeq ? `event ${expectedSeq} is missing` : `events ${expectedSeq}–${row.seq - 1} are missing`;
        return broken(events, expectedSeq, row.seq > expectedSeq ? `${gap} (deleted)` : 'the sequence runs backwards');
      }
      if (row.prevHash !== prev) return broken(events, row.seq, `event ${row.seq} does not follow event ${row.seq - 1} (deleted, reordered or edited)`);
      if (linkHash(row) !== row.hash) return broken(events, row.seq, `event ${row.seq} was edited after it was recorded`);
      const checkpoint = checkpoints.get(row.seq);
      if (checkpoint && checkpoint.hash !== row.hash) {
        return broken(events, row.seq, `event ${row.seq} differs from its signed checkpoint (the chain up to it was rewritten)`);
      }
      prev = row.hash;
      expectedSeq += 1;
      events += 1;
    }
    if (page.length < PAGE) break;
  }
  const beyond = [...checkpoints.keys()].find((seq) => seq >= expectedSeq);
  if (beyond !== undefined) {
    return broken(events, expectedSeq, `a signed checkpoint names event ${beyond}, past the end of the chain (events at the end were deleted)`);
  }
  const head = await store.audit.head();
  if (head.seq !== expectedSeq - 1 || head.hash !== prev) {
    return broken(events, expectedSeq, `the chain ends at event ${expectedSeq - 1} but its head says ${head.seq} (events at the end were deleted)`);
  }

  return { intact: true, events, head: prev };
}

function broken(events: number, seq: number, problem: string): ChainReport {
  return { intact: false, events, seq, problem };
}

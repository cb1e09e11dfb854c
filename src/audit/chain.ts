import { createHash } from 'node:crypto';
import type { AuditRow } from '../storage/metadata/index.js';

/** The fields that make an event's hash, in a fixed order; the hash covers the previous one. */
const FIELDS = [
  'seq', 'at', 'node', 'requestId', 'action', 'outcome', 'reason', 'principal', 'credential', 'tokenId',
  'federated', 'address', 'userAgent', 'repository', 'reference', 'digest', 'bytes', 'prevHash',
] as const satisfies ReadonlyArray<keyof AuditRow>;

/**
 * The hash of an event: SHA-256 over the JSON array of its fields (previous hash included), so
 * changing, removing or reordering any event breaks every link after it.
 */
export function linkHash(row: Omit<AuditRow, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify(FIELDS.map((f) => row[f] ?? null))).digest('hex');
}

import type { AuditRow } from '../../storage/metadata/index.js';

/**
 * An audit event as a CloudEvents 1.0 JSON object: `id` is the chain's sequence number, `type`
 * names the action, and `data` holds every field, hashes included, so a receiver can check the
 * chain itself.
 */
export function cloudEvent(row: AuditRow): Record<string, unknown> {
  const { federated, ...rest } = row;

  return {
    specversion: '1.0',
    id: String(row.seq),
    source: `portcullis://${row.node}`,
    type: `io.portcullis.audit.${row.action}`,
    time: new Date(row.at).toISOString(),
    datacontenttype: 'application/json',
    data: { ...rest, at: new Date(row.at).toISOString(), federated: federated === null ? null : (JSON.parse(federated) as unknown) },
  };
}

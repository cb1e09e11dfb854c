import { AddressRuleStore } from './address-rules.js';
import { AuditStore } from './audit.js';
import { connect, type Connection } from './connect.js';
import { FederationStore } from './federation.js';
import { KeyStore } from './keys.js';
import { ManifestGraph } from './manifest-graph.js';
import { RobotStore } from './robots.js';
import { ContentStore } from './content.js';
import { PrincipalStore } from './principals.js';
import { RevocationStore } from './revocations.js';
import { TrustStore } from './trust.js';

/** The metadata store: one interface over SQLite and PostgreSQL. */
export interface MetadataStore {
  engine: Connection['engine'];
  content: ContentStore;
  graph: ManifestGraph;
  principals: PrincipalStore;
  revocations: RevocationStore;
  addressRules: AddressRuleStore;
  keys: KeyStore;
  robots: RobotStore;
  federation: FederationStore;
  audit: AuditStore;
  trust: TrustStore;
  changes: Connection['changes'];
  /** Throws when the database cannot answer (used by readiness checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openMetadataStore(database: string, dataDir: string): Promise<MetadataStore> {
  const conn = await connect(database, dataDir);

  return {
    engine: conn.engine,
    content: new ContentStore(conn),
    graph: new ManifestGraph(conn),
    principals: new PrincipalStore(conn),
    revocations: new RevocationStore(conn),
    addressRules: new AddressRuleStore(conn),
    keys: new KeyStore(conn),
    robots: new RobotStore(conn),
    federation: new FederationStore(conn),
    audit: new AuditStore(conn),
    trust: new TrustStore(conn),
    changes: conn.changes,
    ping: async () => {
      await conn.db.selectFrom('changes').select('id').limit(1).execute();
    },
    close: () => conn.close(),
  };
}

export type { ManifestRecord, NewManifest, UploadRecord } from './content.js';
export type { RobotRecord } from './robots.js';
export type { AuditCheckpoint, AuditFilter, AuditRow, AuditSummary, NewAuditRow } from './audit.js';
export type { Conditions, IssuerKind, IssuerRecord, NewRule, RuleRecord } from './federation.js';
export type { AddressRules } from './address-rules.js';
export type { NewRevocation, RevocationKind, RevocationRecord } from './revocations.js';
export type { BindingRecord, NamespaceRecord, SigningKeyRecord, UserRecord } from './principals.js';
export type { PolicyRecord, QuarantineKind, QuarantineRecord, ScanRecord, StoredFinding, TagMove } from './trust.js';

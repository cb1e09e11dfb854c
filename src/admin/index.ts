import type { Config } from '../config/schema.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { CredentialAdmin } from './credentials.js';
import { ExplainAdmin } from './explain.js';
import { FederationAdmin } from './federation.js';
import { HygieneAdmin } from './hygiene.js';
import { IncidentAdmin } from './incident.js';
import { PeopleAdmin } from './people.js';
import { TrustAdmin, trustStage } from './trust.js';
import { FilesystemBlobDriver } from '../storage/blobs/filesystem.js';
import { TrustService } from '../trust/index.js';
import { verifiers } from '../trust/verify/index.js';

/**
 * Every administrative operation, shared by the `portcullis` CLI and the admin API so that
 * both validate alike. Changes go to the metadata store; running servers see them through its
 * change feed on their next request.
 */
export class Admin {
  readonly people: PeopleAdmin;
  readonly credentials: CredentialAdmin;
  readonly federation: FederationAdmin;
  readonly incident: IncidentAdmin;
  readonly hygiene: HygieneAdmin;
  readonly explain: ExplainAdmin;
  readonly trust: TrustAdmin;

  /** `trust` is the server's own trust service; the CLI builds one over the same store and blobs. */
  constructor(store: MetadataStore, config: Config, trust?: TrustService) {
    const service = trust ?? new TrustService(store, new FilesystemBlobDriver(config.blobs.path ?? config.dataDir), verifiers, config);
    this.people = new PeopleAdmin(store, config);
    this.credentials = new CredentialAdmin(store, config);
    this.federation = new FederationAdmin(store, config);
    this.incident = new IncidentAdmin(store, this.people, this.credentials, this.federation);
    this.hygiene = new HygieneAdmin(store, config);
    this.trust = new TrustAdmin(store, config, service, this.incident);
    this.explain = new ExplainAdmin(store, trustStage(service, config));
  }
}

export { AdminError, duration } from './errors.js';
export { applyConfigPolicies, readConfigPolicies } from './trust.js';
export type { AllowlistKind } from './people.js';
export type { RevokeRequest } from './credentials.js';
export type { RuleInput } from './federation.js';
export type { CredentialIncident } from './incident.js';
export type { CredentialEntry } from './hygiene.js';
export { EXPLAIN_ACTIONS, type Explanation, type Step, type TrustCheck, type WhoCanEntry } from './explain.js';

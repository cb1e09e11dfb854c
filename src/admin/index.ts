import type { Config } from '../config/schema.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { CredentialAdmin } from './credentials.js';
import { ExplainAdmin } from './explain.js';
import { FederationAdmin } from './federation.js';
import { HygieneAdmin } from './hygiene.js';
import { IncidentAdmin } from './incident.js';
import { PeopleAdmin } from './people.js';

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

  constructor(store: MetadataStore, config: Config) {
    this.people = new PeopleAdmin(store, config);
    this.credentials = new CredentialAdmin(store, config);
    this.federation = new FederationAdmin(store, config);
    this.incident = new IncidentAdmin(store, this.people, this.credentials, this.federation);
    this.hygiene = new HygieneAdmin(store, config);
    this.explain = new ExplainAdmin(store);
  }
}

export { AdminError, duration } from './errors.js';
export type { AllowlistKind } from './people.js';
export type { RevokeRequest } from './credentials.js';
export type { RuleInput } from './federation.js';
export type { CredentialIncident } from './incident.js';
export type { CredentialEntry } from './hygiene.js';
export { EXPLAIN_ACTIONS, type Explanation, type Step, type TrustCheck, type WhoCanEntry } from './explain.js';

/** Row shapes of the metadata store. Times are milliseconds since the epoch. */
export interface Database {
  users: {
    id: string;
    name: string;
    password_hash: string;
    disabled: number;
    created_at: number;
    /** JSON array of CIDRs the user may connect from; null for anywhere. */
    allowed_cidrs: string | null;
    /** 1 when an admin allowed bindings in both production and non-production namespaces. */
    mixed_environments: number;
    /** `<issuer>|<sub>` of a person who signs in through the OpenID provider; null for local users. */
    external_subject?: string | null;
    /** JSON array of the person's groups at the provider, as of the last sign-in. */
    groups?: string | null;
  };
  namespaces: {
    name: string;
    environment: string | null;
    created_at: number;
    allowed_cidrs: string | null;
    /** 1 when a pull must be refused unless its audit record is written first. */
    audit_fail_closed: number;
  };
  bindings: {
    id: string;
    principal: string;
    namespace: string;
    role: string;
    created_at: number;
  };
  refresh_tokens: { token_hash: string; user_id: string; created_at: number; expires_at: number };
  /** One-time codes handing a browser sign-in to `portcullis login`; only their hashes are kept. */
  login_codes: { code_hash: string; user_id: string; challenge: string; expires_at: number; used_at: number | null };
  signing_keys: {
    kid: string;
    private_jwk: string;
    public_jwk: string;
    created_at: number;
    retired_at: number | null;
  };
  repositories: { name: string; created_at: number };
  blobs: { digest: string; size: number; created_at: number };
  repository_blobs: { repository: string; digest: string; created_at: number };
  manifests: {
    repository: string;
    digest: string;
    media_type: string;
    artifact_type: string | null;
    subject: string | null;
    annotations: string | null;
    size: number;
    content: Buffer;
    created_at: number;
  };
  manifest_references: { repository: string; parent: string; child: string };
  tags: { repository: string; name: string; digest: string; updated_at: number };
  tag_history: {
    id: string;
    repository: string;
    tag: string;
    digest: string | null;
    previous: string | null;
    actor: string;
    at: number;
    /** Why the move overrode the namespace's tag rules; null for ordinary moves. */
    note?: string | null;
  };
  /** Per-namespace trust policies: the resolved policy document and a version bumped on every change. */
  trust_policies: {
    namespace: string;
    document: string;
    version: number;
    /** `config` (re-applied at every start) or `api` (the admin API or the CLI). */
    source: string;
    updated_by: string;
    updated_at: number;
  };
  /** Digests that may not be pulled: by an admin, the secret scanner, or awaiting checks (staged). */
  quarantine: {
    digest: string;
    kind: string;
    /** For a staged digest: the namespace whose checks release it (a pull elsewhere does not). */
    namespace: string | null;
    reason: string;
    actor: string;
    at: number;
  };
  /** The secret scan of one blob, done once per digest whichever repository it was pushed to. */
  scan_results: {
    digest: string;
    complete: number;
    problem: string | null;
    /** JSON array of findings: rule, description, path, line, fingerprint; never the secret. */
    findings: string;
    /** JSON array of the paths the layer's whiteouts hide (opaque directories end in `/`). */
    whiteouts: string;
    bytes: number;
    at: number;
  };
  uploads: {
    id: string;
    repository: string;
    owner: string;
    length: number;
    algorithm: string | null;
    created_at: number;
    updated_at: number;
  };
  changes: { id: string; at: number };
  secrets: { name: string; value: string; created_at: number };
  robots: {
    id: string;
    name: string;
    namespace: string;
    secret_hash: string;
    previous_hash: string | null;
    previous_until: number | null;
    expires_at: number;
    disabled: number;
    last_used_at: number | null;
    last_used_ip: string | null;
    created_at: number;
    allowed_cidrs: string | null;
  };
  /** Trusted external token issuers (OIDC providers and SPIFFE trust domains). */
  federation_issuers: {
    alias: string;
    /** `oidc` or `spiffe`. */
    kind: string;
    /** The exact `iss` for OIDC; the trust domain for SPIFFE. */
    issuer: string;
    /** JSON array of accepted audiences. */
    audiences: string;
    /** JSON array of accepted JWS algorithms. */
    algorithms: string;
    /** Where keys come from: a JWKS or SPIFFE bundle URL, or a file; neither means OIDC discovery. */
    jwks_uri: string | null;
    jwks_file: string | null;
    created_at: number;
  };
  /** Rules mapping an issuer's token claims to a principal with its own bindings. */
  federation_rules: {
    id: string;
    name: string;
    issuer_alias: string;
    /** JSON object: claim path → exact value, glob, or list of those. */
    conditions: string;
    allowed_cidrs: string | null;
    mixed_environments: number;
    disabled: number;
    last_used_at: number | null;
    last_used_subject: string | null;
    last_used_ip: string | null;
    created_at: number;
  };
  /** The audit log: one row per event, each chained to the one before by `prev_hash`. */
  audit_events: {
    seq: number;
    at: number;
    node: string;
    request_id: string | null;
    action: string;
    outcome: string;
    reason: string | null;
    principal: string | null;
    credential: string | null;
    token_id: string | null;
    federated: string | null;
    address: string | null;
    user_agent: string | null;
    repository: string | null;
    reference: string | null;
    digest: string | null;
    bytes: number | null;
    prev_hash: string;
    hash: string;
  };
  /** Signed statements that the chain held `hash` at event `seq` (a JWS over both). */
  audit_checkpoints: { seq: number; hash: string; at: number; kid: string; public_jwk: string; signature: string };
  /** What retention pruned: events first_seq..last_seq, and the hash the chain continues from, signed. */
  audit_summaries: {
    last_seq: number;
    first_seq: number;
    events: number;
    last_hash: string;
    at: number;
    kid: string;
    public_jwk: string;
    signature: string;
  };
  /** Each export sink's progress: the last event it delivered, and which node exports it now. */
  audit_exports: { name: string; seq: number; holder: string | null; lease_until: number };
  /** The end of the audit chain: the last sequence number and its hash (one row, id 1). */
  audit_head: { id: number; seq: number; hash: string };
  revocations: {
    id: string;
    kind: string;
    principal: string | null;
    jti: string | null;
    before: number | null;
    reason: string | null;
    actor: string;
    created_at: number;
    expires_at: number;
  };
}

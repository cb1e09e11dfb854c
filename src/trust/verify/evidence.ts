import type { KeyObject, X509Certificate } from 'node:crypto';

/**
 * What the registry trusts, as loaded from a namespace's trust policy. Every anchor has a name,
 * and a verified signature reports the name of the anchor that vouched for it.
 */
export interface Anchors {
  /** Public keys for key-based signatures (cosign keys, key-based Sigstore bundles). */
  keys: readonly { name: string; key: KeyObject }[];
  /** Sigstore trusted roots (the parsed `trusted_root.json`) for keyless signatures. */
  sigstoreRoots: readonly { name: string; trustedRoot: unknown }[];
  /**
   * X.509 trust stores: cosign signatures made with a certificate from a private CA, and
   * notation signatures. `intermediates` may help build a chain the envelope does not carry.
   */
  certificateStores: readonly { name: string; roots: X509Certificate[]; intermediates: X509Certificate[] }[];
}

/** A signature or attestation that verified against one of the anchors. */
export interface Evidence {
  format: 'cosign' | 'sigstore-bundle' | 'notation';
  kind: 'signature' | 'attestation';
  /** The name of the anchor (key, trusted root or certificate store) that verified it. */
  anchor: string;
  /** The signing certificate's subject alternative name (email or URI), when a certificate signed. */
  identity?: string;
  /** The OIDC issuer named in a Fulcio certificate (extension 1.3.6.1.4.1.57264.1.8, or .1.1). */
  issuer?: string;
  /** The signing certificate's subject distinguished name, when a certificate signed. */
  subject?: string;
  /** For attestations: the in-toto statement's predicate type and predicate. */
  predicateType?: string;
  predicate?: unknown;
  /** Where it was found, for messages: for example `tag sha256-….sig, layer 0`. */
  source: string;
}

/** The result of checking one signature: what it proves, or the precise reason it proves nothing. */
export type Outcome = { ok: true; evidence: Evidence } | { ok: false; source: string; problem: string };

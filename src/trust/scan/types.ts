/**
 * Shapes shared by the layer scanner, the config scanner and the whiteout pass.
 *
 * A finding names where a secret sits and which rule saw it, never the secret: the registry
 * keeps findings in its metadata store and shows them to people who may not hold the secret.
 * The fingerprint lets a responder check a value they already know against a finding.
 *
 * @module
 */

/** One secret found in a layer file or in a field of the image config. */
export interface Finding {
  /** Rule id from `rules.ts`, stable across releases. */
  rule: string;
  /** What the rule looks for, for people reading a report. */
  description: string;
  /** Path inside the layer (no leading `/` or `./`), or the config field (`config.Env[2]`). */
  path: string;
  /** 1-based line of the match inside the file; absent for config fields. */
  line?: number;
  /**
   * First 16 hex characters of sha256 over `<rule>:` followed by the secret's bytes as they
   * sit in the file, so a known leaked value can be checked without storing it here.
   */
  fingerprint: string;
}

/** What scanning one layer blob yields. */
export interface LayerScan {
  findings: Finding[];
  /** Paths this layer hides in lower layers; an opaque directory is written `dir/` (`/` for the root). */
  whiteouts: string[];
  /** Decompressed bytes read (tar headers included). */
  bytes: number;
  /** Regular files whose content was scanned. */
  files: number;
  /** False when a cap was hit or the blob could not be read to its end; `problem` says why. */
  complete: boolean;
  problem?: string;
}

/**
 * Caps against decompression bombs and runaway layers. A layer that hits one is reported
 * incomplete (`complete: false`), which the caller treats like a finding.
 */
export interface ScanLimits {
  /** Decompressed bytes per layer before the scan stops. */
  maxLayerBytes?: number;
  /** Bytes of each file that are scanned; the rest is read past unscanned. */
  maxFileBytes?: number;
  /** Tar entries per layer before the scan stops. */
  maxEntries?: number;
  /** Findings per layer before the scan stops, so a layer full of keys cannot exhaust memory. */
  maxFindings?: number;
  /**
   * Largest decompressed/compressed ratio allowed; unset means no ratio check. It is applied
   * to at least 1 MiB of compressed input so small, very compressible layers still pass.
   */
  maxRatio?: number;
}

/** The limits used for any field left out of {@link ScanLimits}. */
export const DEFAULT_LIMITS = {
  maxLayerBytes: 4 * 1024 ** 3,
  maxFileBytes: 16 * 1024 ** 2,
  maxEntries: 500_000,
  maxFindings: 10_000,
} as const;

/** A finding placed in its layer, and marked when a later layer deletes the file. */
export interface LayerFinding extends Finding {
  /** Digest of the layer blob that holds the secret. */
  layer: string;
  /**
   * Digest of the first later layer whose whiteout or opaque directory hides the file. The
   * secret is still in the lower blob, which anyone with pull access can fetch by digest.
   */
  hiddenBy?: string;
}

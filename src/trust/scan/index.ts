/**
 * Secret scanning of pushed images (DESIGN.md: trust/). A layer blob is scanned once per
 * digest with {@link scanLayer}, the config blob with {@link scanConfig}, and the layers of
 * one manifest are combined with {@link applyWhiteouts} so deleted-but-retrievable secrets
 * are reported as hidden rather than dropped.
 *
 * Findings never carry the secret, only a fingerprint of it; nothing here logs.
 *
 * @module
 */

export { scanConfig } from './config.js';
export { detectCompression, type Compression } from './decompress.js';
export { scanLayer } from './layer.js';
export { CONTENT_RULES, severityOf, type Severity } from './rules.js';
export {
  DEFAULT_LIMITS,
  type Finding,
  type LayerFinding,
  type LayerScan,
  type ScanLimits,
} from './types.js';
export { applyWhiteouts } from './whiteouts.js';

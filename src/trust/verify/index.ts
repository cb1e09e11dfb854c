import type { Verifiers } from '../artifacts.js';
import { verifyCosignLayer } from './cosign.js';
import { verifyNotation } from './notation.js';
import { verifySigstoreBundle } from './sigstore.js';

/** The real verifiers, one per signature format the registry accepts. */
export const verifiers: Verifiers = {
  cosignLayer: verifyCosignLayer,
  sigstoreBundle: verifySigstoreBundle,
  notation: (envelope, envelopeType, target, anchors, source) => verifyNotation(envelope, envelopeType, target, anchors, source),
};

import { createPublicKey } from 'node:crypto';
import type { Anchors } from '../verify/evidence.js';
import { parseCertificates } from '../verify/x509.js';
import type { TrustPolicy } from './document.js';

/** The policy's signers as verification anchors, each named after its signer. */
export function anchorsOf(policy: TrustPolicy): Anchors {
  return {
    keys: policy.signers.flatMap((s) => (s.key ? [{ name: s.name, key: createPublicKey(s.key) }] : [])),
    sigstoreRoots: policy.signers.flatMap((s) => (s.keyless ? [{ name: s.name, trustedRoot: s.keyless.trustedRoot }] : [])),
    certificateStores: policy.signers.flatMap((s) =>
      s.x509
        ? [{ name: s.name, roots: parseCertificates(s.x509.roots), intermediates: s.x509.intermediates ? parseCertificates(s.x509.intermediates) : [] }]
        : [],
    ),
  };
}

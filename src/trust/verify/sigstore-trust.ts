import type { Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import type { Anchors } from './evidence.js';

/** Who a keyless signature's certificate names, and which trusted root vouched for it. */
export interface KeylessSigner {
  anchor: string;
  identity?: string;
  issuer?: string;
}

/** Trust material built once per loaded trusted root (the object is the policy's, so it is stable). */
const materials = new WeakMap<object, TrustMaterial | { problem: string }>();

function trustMaterial(trustedRoot: unknown): TrustMaterial | { problem: string } {
  if (typeof trustedRoot !== 'object' || trustedRoot === null) {
    return { problem: 'trusted root is not a JSON object' };
  }
  let material = materials.get(trustedRoot);
  if (!material) {
    material = buildTrustMaterial(trustedRoot);
    materials.set(trustedRoot, material);
  }

  return material;
}

function buildTrustMaterial(json: object): TrustMaterial | { problem: string } {
  try {
    const root = TrustedRoot.fromJSON(json);
    // A log key whose validity has no start would be trusted for all time: a malformed root.
    if (root.tlogs.some((log) => !log.publicKey?.validFor?.start)) {
      return { problem: 'trusted root has a log key with no validity start' };
    }

    return toTrustMaterial(root);
  } catch (err) {
    return { problem: `trusted root is malformed: ${describe(err)}` };
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;

  return typeof code === 'string' ? `${err.message} (${code})` : err.message;
}

/**
 * Verifies a certificate-signed Sigstore bundle against each configured trusted root in turn:
 * Fulcio chain and SCT at the time the log or a timestamp authority proves, transparency-log
 * inclusion, the log entry matching the signature, and the signature itself. `artifact` is the
 * signed bytes of a message signature (DSSE envelopes carry their own payload).
 * No identity policy is applied here; the signer's identity is returned for the policy to judge.
 */
export function verifyWithTrustedRoots(
  bundle: Bundle,
  artifact: Buffer | undefined,
  roots: Anchors['sigstoreRoots'],
): KeylessSigner | { problem: string } {
  if (roots.length === 0) return { problem: 'keyless signature, but no Sigstore trusted root is configured' };
  const problems: string[] = [];
  for (const root of roots) {
    const material = trustMaterial(root.trustedRoot);
    if ('problem' in material) {
      problems.push(`trusted root "${root.name}": ${material.problem}`);
      continue;
    }
    try {
      const { identity } = new Verifier(material).verify(toSignedEntity(bundle, artifact));

      return { anchor: root.name, identity: identity?.subjectAlternativeName, issuer: identity?.extensions?.issuer };
    } catch (err) {
      problems.push(`trusted root "${root.name}": ${describe(err)}`);
    }
  }

  return { problem: problems.join('; ') };
}

/**
 * Why a trusted root cannot anchor keyless signatures, or undefined: it must parse, and name at
 * least one certificate authority with certificates and one transparency log with a key.
 */
export function trustedRootProblem(json: unknown): string | undefined {
  const material = trustMaterial(json);
  if ('problem' in material) return material.problem;
  const root = TrustedRoot.fromJSON(json);
  if (!root.certificateAuthorities.some((ca) => (ca.certChain?.certificates.length ?? 0) > 0)) return 'trusted root names no certificate authority with certificates';
  if (!root.tlogs.some((log) => (log.publicKey?.rawBytes?.length ?? 0) > 0)) return 'trusted root names no transparency log with a key';

  return undefined;
}

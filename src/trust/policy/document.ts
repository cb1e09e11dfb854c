import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { trustedRootProblem } from '../verify/sigstore-trust.js';
import { parseCertificates } from '../verify/x509.js';

/**
 * A namespace's trust policy as written in a policy file or sent to the admin API. Files may
 * name keys, certificates and trusted roots by path (relative to the file); the stored form
 * holds them inline so that every node reads the same policy from the database.
 */
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Tag patterns use the tag alphabet plus `*` (any run of characters) and `?` (one). */
const TAG_PATTERN = /^[a-zA-Z0-9_.*?-]{1,128}$/;

const text = z.string().min(1).max(1_000_000);
/** A refusal names at most this many problems, each cut to this length (a YAML tag can yield hundreds). */
const MAX_ISSUES = 5;
const MAX_ISSUE = 200;

const signerSchema = z
  .object({
    name: z.string().regex(NAME, 'signer names are lower-case letters, digits, ".", "_" and "-"'),
    /** A public key (PEM) for cosign key-based signatures and key-based Sigstore bundles. */
    key: text.optional(),
    /** Keyless (Fulcio) signatures: the Sigstore trusted root and the identity that must have signed. */
    keyless: z
      .object({
        trustedRoot: z.union([text, z.record(z.string(), z.unknown())]),
        /** The certificate's subject alternative name; `*` matches any run of characters. */
        identity: z.string().min(1).max(1000),
        /** The OIDC issuer recorded in the certificate, exactly. */
        issuer: z.string().min(1).max(1000),
      })
      .strict()
      .optional(),
    /** Certificates from a private CA: cosign with `--certificate`, and notation. */
    x509: z
      .object({
        roots: text,
        intermediates: text.optional(),
        /** The leaf's subject DN, exactly as reported (`C=US, O=Acme, CN=release`). */
        subject: z.string().min(1).max(1000).optional(),
        /** The leaf's subject alternative name; `*` matches any run of characters. */
        identity: z.string().min(1).max(1000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => [s.key, s.keyless, s.x509].filter((v) => v !== undefined).length === 1, {
    message: 'a signer has exactly one of key, keyless or x509',
  });

const attestationSchema = z
  .object({
    predicateType: z.string().min(1).max(500),
    /** Signers whose attestation counts; absent means any of the policy's signers. */
    signers: z.array(z.string().regex(NAME)).min(1).optional(),
    /** Predicate fields (dotted paths) and the value each must have; `*` matches any run of characters. */
    match: z.record(z.string().min(1).max(300), z.union([z.string().max(1000), z.array(z.string().max(1000)).min(1)])).optional(),
  })
  .strict();

export const SECRET_MODES = ['off', 'warn', 'quarantine', 'block'] as const;
export type SecretMode = (typeof SECRET_MODES)[number];

export const policySchema = z
  .object({
    /** `audit` logs and records what would be refused; `enforce` refuses it. */
    mode: z.enum(['audit', 'enforce']).default('enforce'),
    signers: z.array(signerSchema).max(50).default([]),
    /** Whether a signature by one of the signers is required; the default is yes when any signer is named. */
    requireSignature: z.boolean().optional(),
    attestations: z.array(attestationSchema).max(20).default([]),
    immutableTags: z.array(z.string().regex(TAG_PATTERN, 'tag patterns use tag characters, * and ?')).max(100).default([]),
    /** `deny` keeps a tag from moving back to a manifest it named before or to an older one. */
    rollback: z.enum(['deny', 'allow']).default('deny'),
    /** New pushes stay quarantined until the signature and attestation checks pass. */
    stagedDelivery: z.boolean().default(false),
    /** What a secret found on push does; absent means the registry-wide `trust.secretScan.mode`. */
    secrets: z.enum(SECRET_MODES).optional(),
  })
  .strict();

export type PolicyInput = z.input<typeof policySchema>;

export interface ResolvedSigner {
  name: string;
  key?: string;
  keyless?: { trustedRoot: Record<string, unknown>; identity: string; issuer: string };
  x509?: { roots: string; intermediates?: string; subject?: string; identity?: string };
}

export interface TrustPolicy {
  mode: 'audit' | 'enforce';
  signers: ResolvedSigner[];
  requireSignature: boolean;
  attestations: { predicateType: string; signers?: string[]; match?: Record<string, string | string[]> }[];
  immutableTags: string[];
  rollback: 'deny' | 'allow';
  stagedDelivery: boolean;
  secrets?: SecretMode;
}

/** A policy document that cannot be used, with every problem named (never echoing key material). */
export class PolicyError extends Error {}

/**
 * Validates a policy document and brings keys, certificates and trusted roots inline. With
 * `baseDir`, string values that are not inline material are read as files relative to it;
 * without it (the admin API) only inline material is accepted.
 */
export function resolvePolicy(input: unknown, baseDir?: string): TrustPolicy {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'policy'}: ${i.message.slice(0, MAX_ISSUE)}`);
    const shown = issues.slice(0, MAX_ISSUES).join('; ');
    throw new PolicyError(issues.length > MAX_ISSUES ? `${shown}; and ${issues.length - MAX_ISSUES} more` : shown);
  }
  const doc = parsed.data;
  const names = new Set<string>();
  const signers = doc.signers.map((s) => {
    if (names.has(s.name)) throw new PolicyError(`signer ${s.name} is named twice`);
    names.add(s.name);

    return resolveSigner(s, baseDir);
  });
  for (const a of doc.attestations) {
    const unknown = (a.signers ?? []).filter((n) => !names.has(n));
    if (unknown.length > 0) throw new PolicyError(`attestation ${a.predicateType} names unknown signer(s): ${unknown.join(', ')}`);
  }
  const requireSignature = doc.requireSignature ?? signers.length > 0;
  if ((requireSignature || doc.attestations.length > 0) && signers.length === 0) {
    throw new PolicyError('signatures or attestations are required but no signer is named');
  }

  return { ...doc, signers, requireSignature };
}

function resolveSigner(s: z.infer<typeof signerSchema>, baseDir: string | undefined): ResolvedSigner {
  const where = `signer ${s.name}`;
  if (s.key !== undefined) {
    const key = material(s.key, baseDir, `${where}: key`);
    if (/PRIVATE KEY/.test(key)) throw new PolicyError(`${where}: key is a private key; give the public key`);
    try {
      createPublicKey(key);
    } catch {
      throw new PolicyError(`${where}: key is not a PEM public key`);
    }

    return { name: s.name, key };
  }
  if (s.keyless) {
    const root = typeof s.keyless.trustedRoot === 'string' ? parseRoot(material(s.keyless.trustedRoot, baseDir, `${where}: trustedRoot`), where) : s.keyless.trustedRoot;
    if (!Array.isArray(root.certificateAuthorities) || !Array.isArray(root.tlogs)) {
      throw new PolicyError(`${where}: trustedRoot has no certificateAuthorities or tlogs (is it a Sigstore trusted_root.json?)`);
    }
    const problem = trustedRootProblem(root);
    if (problem) throw new PolicyError(`${where}: ${problem}`);

    return { name: s.name, keyless: { trustedRoot: root, identity: s.keyless.identity, issuer: s.keyless.issuer } };
  }
  const x = s.x509!;
  const roots = material(x.roots, baseDir, `${where}: roots`);
  const intermediates = x.intermediates === undefined ? undefined : material(x.intermediates, baseDir, `${where}: intermediates`);
  for (const [label, pem] of [['roots', roots], ['intermediates', intermediates]] as const) {
    if (pem === undefined) continue;
    let count = 0;
    try {
      count = parseCertificates(pem).length;
    } catch {
      count = 0;
    }
    if (count === 0) throw new PolicyError(`${where}: ${label} holds no PEM certificate`);
  }

  return { name: s.name, x509: { roots, intermediates, subject: x.subject, identity: x.identity } };
}

function parseRoot(json: string, where: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new PolicyError(`${where}: trustedRoot is not a JSON object`);
}

/** Inline PEM or JSON stays as it is; anything else is a file path when files are allowed. */
function material(value: string, baseDir: string | undefined, where: string): string {
  if (value.includes('-----BEGIN') || value.trimStart().startsWith('{')) return value;
  if (baseDir === undefined) throw new PolicyError(`${where} must be inline (PEM or JSON); file paths are read only from policy files`);
  try {
    return readFileSync(path.resolve(baseDir, value), 'utf8');
  } catch {
    throw new PolicyError(`${where}: cannot read ${value}`);
  }
}

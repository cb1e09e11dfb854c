import type { Evidence, Outcome } from '../verify/evidence.js';
import type { ResolvedSigner, TrustPolicy } from './document.js';
import { globMatch } from './glob.js';

/** The policy's answer for one manifest: allowed or not, with every reason a refusal has. */
export interface Verdict {
  allowed: boolean;
  /** Why it is refused (empty when allowed). */
  reasons: string[];
  /** What satisfied the policy, for logs and `trust check`: `signature by release-key (cosign)`. */
  satisfied: string[];
}

/** How many verification problems a refusal quotes; the rest are counted. */
const QUOTED_PROBLEMS = 3;

/**
 * Decides from the verified evidence (and the problems of what did not verify) whether the
 * policy is met: a signature by a named signer whose identity matches, and every required
 * attestation with its predicate fields. Pure: the verification itself happened before.
 */
export function judge(policy: TrustPolicy, outcomes: readonly Outcome[]): Verdict {
  const reasons: string[] = [];
  const satisfied: string[] = [];
  const accepted = outcomes.flatMap((o) => (o.ok ? accept(policy, o.evidence) : []));
  const refusedIdentities = outcomes.flatMap((o) => (o.ok && accept(policy, o.evidence).length === 0 ? [identityProblem(policy, o.evidence)] : []));
  const problems = [...outcomes.flatMap((o) => (o.ok ? [] : [`${o.source}: ${o.problem}`])), ...refusedIdentities];

  if (policy.requireSignature) {
    const signature = accepted.find((a) => a.evidence.kind === 'signature');
    if (signature) satisfied.push(`signature by ${signature.signer.name} (${signature.evidence.format})`);
    else reasons.push(`no valid signature by a trusted signer (${policy.signers.map((s) => s.name).join(', ')})${problemList(problems, outcomes.length)}`);
  }
  for (const required of policy.attestations) {
    const candidates = accepted.filter(
      (a) => a.evidence.kind === 'attestation' && a.evidence.predicateType === required.predicateType && (!required.signers || required.signers.includes(a.signer.name)),
    );
    if (candidates.length === 0) {
      const by = required.signers ? ` signed by ${required.signers.join(' or ')}` : '';
      reasons.push(`missing attestation ${required.predicateType}${by}`);
      continue;
    }
    const mismatches = candidates.map((c) => predicateMismatch(c.evidence.predicate, required.match ?? {}));
    const index = mismatches.findIndex((m) => m === undefined);
    if (index >= 0) satisfied.push(`attestation ${required.predicateType} by ${candidates[index]!.signer.name}`);
    else reasons.push(`attestation ${required.predicateType} does not match the policy: ${mismatches[0]}`);
  }

  return { allowed: reasons.length === 0, reasons, satisfied };
}

interface Accepted {
  evidence: Evidence;
  signer: ResolvedSigner;
}

/** The evidence's signer when its anchor belongs to the policy and the signing identity is the one required. */
function accept(policy: TrustPolicy, evidence: Evidence): Accepted[] {
  const signer = policy.signers.find((s) => s.name === evidence.anchor);
  if (!signer || identityProblemOf(signer, evidence) !== undefined) return [];

  return [{ evidence, signer }];
}

function identityProblem(policy: TrustPolicy, evidence: Evidence): string {
  const signer = policy.signers.find((s) => s.name === evidence.anchor);
  const problem = signer ? identityProblemOf(signer, evidence) : 'its anchor is not in the policy';

  return `${evidence.source}: signed, but ${problem}`;
}

function identityProblemOf(signer: ResolvedSigner, evidence: Evidence): string | undefined {
  if (signer.keyless) {
    if (evidence.issuer !== signer.keyless.issuer) return `the certificate issuer is ${quote(evidence.issuer)}, not ${quote(signer.keyless.issuer)}`;
    if (evidence.identity === undefined || !globMatch(signer.keyless.identity, evidence.identity)) {
      return `the certificate identity ${quote(evidence.identity)} does not match ${quote(signer.keyless.identity)}`;
    }
  }
  if (signer.x509?.subject !== undefined && evidence.subject !== signer.x509.subject) {
    return `the certificate subject is ${quote(evidence.subject)}, not ${quote(signer.x509.subject)}`;
  }
  if (signer.x509?.identity !== undefined && (evidence.identity === undefined || !globMatch(signer.x509.identity, evidence.identity))) {
    return `the certificate identity ${quote(evidence.identity)} does not match ${quote(signer.x509.identity)}`;
  }

  return undefined;
}

/** The first predicate field that differs from the policy, or undefined when all match. */
function predicateMismatch(predicate: unknown, match: Record<string, string | string[]>): string | undefined {
  for (const [field, wanted] of Object.entries(match)) {
    const actual = fieldAt(predicate, field);
    const allowed = Array.isArray(wanted) ? wanted : [wanted];
    if (typeof actual !== 'string' || !allowed.some((w) => globMatch(w, actual))) {
      return `${field} is ${typeof actual === 'string' ? quote(actual) : 'absent or not a string'}, wanted ${allowed.map(quote).join(' or ')}`;
    }
  }

  return undefined;
}

/** The value at a dotted path; a key that itself contains dots is matched whole first. */
function fieldAt(value: unknown, field: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (field in record) return record[field];
  const dot = field.indexOf('.');
  for (let at = dot; at > 0; at = field.indexOf('.', at + 1)) {
    const head = field.slice(0, at);
    if (head in record) return fieldAt(record[head], field.slice(at + 1));
  }

  return undefined;
}

function problemList(problems: string[], seen: number): string {
  if (seen === 0) return ': the image has no signatures';
  if (problems.length === 0) return '';
  const quoted = problems.slice(0, QUOTED_PROBLEMS).join('; ');
  const more = problems.length > QUOTED_PROBLEMS ? `; and ${problems.length - QUOTED_PROBLEMS} more` : '';

  return `: ${quoted}${more}`;
}

function quote(value: string | undefined): string {
  if (value === undefined) return '(none)';
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}

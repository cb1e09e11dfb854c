import { RegistryError } from '../../errors/registry-error.js';
import type { ManifestRecord } from '../../storage/metadata/content.js';
import { describeScan, type ManifestScan } from '../../trust/index.js';
import type { V2Context } from './context.js';

/**
 * Applies the trust policy to a manifest about to go out. A refusal is `DENIED` naming what
 * is missing or invalid, and lands in the log line and the audit record; in `audit` mode the
 * pull goes ahead and the log line and audit record say what enforcing would have refused.
 */
export async function enforcePull(ctx: V2Context, manifest: ManifestRecord): Promise<void> {
  const check = await ctx.services.trust.gate.check(manifest);
  if (check.released) {
    ctx.request.log.info({ digest: manifest.digest, trust: 'staged checks passed' }, 'released a staged digest');
    await ctx.services.audit.record([
      {
        at: Date.now(),
        requestId: ctx.request.id,
        action: 'quarantine.release',
        outcome: 'allowed',
        reason: `staged checks passed (was: ${check.released.reason})`,
        principal: ctx.caller.principal,
        credential: ctx.caller.name,
        tokenId: ctx.caller.claims.jti ?? null,
        federated: null,
        address: ctx.request.ip,
        userAgent: null,
        repository: manifest.repository,
        reference: null,
        digest: manifest.digest,
        bytes: null,
      },
    ]);
  }
  if (check.wouldRefuse) {
    ctx.request.logFields = { ...ctx.request.logFields, trust: `audit mode, would refuse: ${check.wouldRefuse}` };
  }
  if (check.refusal) {
    if (ctx.request.audit) ctx.request.audit.digest = manifest.digest;
    refuse(ctx, check.refusal);
  }
}

/** Refuses a blob that is quarantined. */
export async function enforceBlobPull(ctx: V2Context, digest: string): Promise<void> {
  const problem = await ctx.services.trust.blobProblem(digest);
  if (problem) refuse(ctx, problem);
}

export function refuse(ctx: V2Context, reason: string): never {
  ctx.request.logFields = { ...ctx.request.logFields, denied: reason };
  throw new RegistryError('DENIED', reason);
}

/**
 * Runs the secret scan of a manifest being pushed. In `block` mode a finding refuses the push
 * (listing layer, path and rule); in `warn` mode the log line and audit record say what was
 * found. Returns the scan when the manifest must be quarantined once stored.
 */
export async function scanBeforePut(ctx: V2Context, body: Buffer, subject: string | null, artifactType: string | null): Promise<ManifestScan | undefined> {
  const scan = await ctx.services.trust.scanner.manifest(ctx.name, body, subject, artifactType);
  if (scan.findings.length === 0 && scan.incomplete.length === 0) return undefined;
  const summary = describeScan(scan);
  if (scan.mode === 'block') refuse(ctx, `secret scan refused the push: ${summary}`);
  ctx.request.logFields = { ...ctx.request.logFields, trust: `secret scan (${scan.mode}): ${summary}` };

  return scan.mode === 'quarantine' ? scan : undefined;
}

export async function quarantineFindings(ctx: V2Context, digest: string, scan: ManifestScan): Promise<void> {
  const count = scan.findings.length + scan.incomplete.length;
  const layers = [...scan.findings.map((f) => f.layer), ...scan.incomplete.map((i) => i.layer)];
  await ctx.services.trust.quarantineFindings(digest, layers, `secret scan found ${count} problem(s); see portcullis scan findings`);
}

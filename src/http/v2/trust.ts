import type { AuditEvent } from '../../audit/recorder.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { ManifestRecord } from '../../storage/metadata/content.js';
import { describeScan } from '../../trust/index.js';
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
    await ctx.services.audit.record([trustEvent(ctx, manifest, 'quarantine.release', `staged checks passed (was: ${check.released.reason})`)]);
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
 * Runs the secret scan of a manifest about to be stored. In `block` mode a finding refuses the
 * push (listing layer, path and rule) and quarantines the blobs holding secrets, which were
 * uploaded before the manifest; in `quarantine` mode the manifest and those blobs are
 * quarantined before the manifest is stored. Both wait for the scan. In `warn` mode the push
 * does not wait: the scan finishes on the scan threads and its findings are recorded then, as a
 * `scan.findings` audit record and a log line.
 */
export async function scanBeforePut(ctx: V2Context, manifest: ManifestRecord): Promise<void> {
  const { trust } = ctx.services;
  const mode = await trust.scanner.modeFor(manifest.repository);
  if (mode === 'off') return;
  if (mode === 'warn') {
    void recordLater(ctx, manifest);
    return;
  }
  const scan = await trust.scanner.manifest(manifest.repository, manifest.content, manifest.subject, manifest.artifactType);
  if (scan.findings.length === 0 && scan.incomplete.length === 0) return;
  const summary = describeScan(scan);
  const blobs = [...scan.findings.map((f) => f.layer), ...scan.incomplete.map((i) => i.layer)];
  const count = scan.findings.length + scan.incomplete.length;
  if (scan.mode === 'block') {
    await trust.quarantineFindings(blobs, `secret scan found ${count} problem(s) in a refused push of ${manifest.digest}; see portcullis scan findings`);
    refuse(ctx, `secret scan refused the push: ${summary}`);
  }
  await trust.quarantineFindings([manifest.digest, ...blobs], `secret scan found ${count} problem(s); see portcullis scan findings ${manifest.digest}`);
  ctx.request.logFields = { ...ctx.request.logFields, trust: `secret scan (${scan.mode}): ${summary}` };
}

/** The `warn` scan of a pushed manifest, recorded when it is done (never failing the push). */
async function recordLater(ctx: V2Context, manifest: ManifestRecord): Promise<void> {
  const { request, services } = ctx;
  try {
    const scan = await services.trust.scanner.manifest(manifest.repository, manifest.content, manifest.subject, manifest.artifactType);
    if (scan.findings.length === 0 && scan.incomplete.length === 0) return;
    const summary = describeScan(scan);
    request.log.warn({ repo: manifest.repository, digest: manifest.digest, trust: summary }, 'secret scan found secrets in a pushed image');
    services.audit.enqueue(trustEvent(ctx, manifest, 'scan.findings', `secret scan (warn): ${summary}`.slice(0, 4000)));
  } catch (err) {
    request.log.error({ err, digest: manifest.digest }, 'the secret scan of a pushed image failed');
  }
}

/** An audit record of what the trust policy did to a manifest on behalf of this request's caller. */
function trustEvent(ctx: V2Context, manifest: ManifestRecord, action: string, reason: string): AuditEvent {
  const { caller, request } = ctx;

  return {
    at: Date.now(),
    requestId: request.id,
    action,
    outcome: 'allowed',
    reason,
    principal: caller.principal,
    credential: caller.name,
    tokenId: caller.claims.jti ?? null,
    federated: caller.claims.federated ? JSON.stringify(caller.claims.federated) : null,
    address: request.ip,
    userAgent: null,
    repository: manifest.repository,
    reference: null,
    digest: manifest.digest,
    bytes: null,
  };
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/schema.js';
import { tryParseDigest } from '../oci/digest.js';
import { isNamespaceName, isRepositoryName, isTag } from '../oci/names.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import type { TrustService } from '../trust/index.js';
import { isAttachment } from '../trust/artifacts.js';
import { PolicyError, resolvePolicy, type TrustPolicy } from '../trust/policy/document.js';
import { conflict, invalid, missing } from './errors.js';
import type { IncidentAdmin } from './incident.js';
import { principalNamer } from './principal-names.js';

/** How many images a leaked layer is traced to in one exposure report. */
const MAX_IMAGES = 1000;

/**
 * Trust administration: namespace policies, quarantine, tag history and overrides, secret-scan
 * findings and who pulled what they affect, and a manifest's verdict on demand.
 */
export class TrustAdmin {
  constructor(
    private readonly store: MetadataStore,
    private readonly config: Config,
    private readonly trust: TrustService,
    private readonly incident: IncidentAdmin,
  ) {}

  async policies() {
    const records = await this.store.trust.policies();

    return records.map((r) => ({ namespace: r.namespace, version: r.version, source: r.source, updatedBy: r.updatedBy, updatedAt: r.updatedAt, policy: JSON.parse(r.document) as unknown }));
  }

  async policy(namespace: string) {
    const found = (await this.policies()).find((p) => p.namespace === namespace);
    if (!found) throw missing(`namespace ${namespace} has no trust policy`);

    return found;
  }

  /**
   * Sets a namespace's policy from a document (files named in it are read relative to
   * `baseDir` when one is given). Policies from the config file are managed there.
   */
  async setPolicy(namespace: string, document: unknown, actor: string, baseDir?: string, source: 'config' | 'api' = 'api') {
    if (!isNamespaceName(namespace)) throw invalid(`${namespace.slice(0, 100)} is not a valid namespace name`);
    if (source === 'api') await this.notFromConfig(namespace);
    let resolved;
    try {
      resolved = resolvePolicy(document, baseDir);
    } catch (err) {
      if (err instanceof PolicyError) throw invalid(`trust policy: ${err.message}`);
      throw err;
    }
    const record = await this.store.trust.setPolicy(namespace, JSON.stringify(resolved), source, actor);

    return { namespace, version: record.version };
  }

  async removePolicy(namespace: string): Promise<void> {
    await this.notFromConfig(namespace);
    if (!(await this.store.trust.removePolicy(namespace))) throw missing(`namespace ${namespace} has no trust policy`);
  }

  /**
   * Refuses changing a policy that a config file manages: one this config names, or one the
   * store says came from a config file (a CLI run without `--config` does not know the file).
   */
  private async notFromConfig(namespace: string): Promise<void> {
    const stored = (await this.store.trust.policies()).find((p) => p.namespace === namespace);
    if (this.config.trust.policies.some((p) => p.namespace === namespace) || stored?.source === 'config') {
      throw conflict(`the trust policy of namespace ${namespace} comes from the config file; change it there`);
    }
  }

  async quarantined() {
    return this.store.trust.quarantined();
  }

  async quarantine(digest: string, reason: string, actor: string): Promise<void> {
    const d = checkDigest(digest);
    if (!reason.trim()) throw invalid('a quarantine needs a reason');
    if (!(await this.store.trust.quarantine({ digest: d, kind: 'admin', reason: reason.slice(0, 500), actor }))) {
      throw conflict(`${d} is already quarantined`);
    }
  }

  async release(digest: string) {
    const released = await this.store.trust.release(checkDigest(digest));
    if (!released) throw missing(`${digest} is not quarantined`);

    return released;
  }

  /**
   * Every move of the tag (or of every tag in the repository), oldest first, with who moved it
   * named as an administrator would type it: the record keeps the principal id, which means
   * nothing to a reader.
   */
  async tagHistory(repository: string, tag?: string) {
    checkRepository(repository);
    if (tag !== undefined && !isTag(tag)) throw invalid(`${tag.slice(0, 130)} is not a valid tag`);
    const moves = await this.store.trust.tagHistory(repository, tag);
    const nameOf = await principalNamer(this.store, moves.map((m) => m.actor));

    return moves.map((m) => ({ ...m, actor: nameOf(m.actor) }));
  }

  /**
   * Moves a tag against the namespace's tag rules (immutable, no rollback): an admin's
   * override, recorded with its reason in the tag's history and in the audit log.
   */
  async overrideTag(repository: string, tag: string, digest: string, reason: string, actor: string) {
    checkRepository(repository);
    if (!isTag(tag)) throw invalid(`${tag.slice(0, 130)} is not a valid tag`);
    if (!reason.trim()) throw invalid('an override needs a reason');
    const d = checkDigest(digest);
    const problem = await this.trust.tags.moveProblem(repository, tag, d);
    const note = `override by ${actor}: ${reason.slice(0, 500)}${problem ? ` (rule: ${problem})` : ''}`;
    if (!(await this.store.content.setTag(repository, tag, d, actor, note))) throw missing(`repository ${repository} holds no manifest ${d}`);

    return { repository, tag, digest: d, overrode: problem ?? null };
  }

  /**
   * What a pull of the manifest would get now, and why: the same gate the registry applies
   * (quarantine, audit mode, attachments, staged release), without releasing anything, plus
   * what satisfied the policy or what it misses.
   */
  async check(repository: string, reference: string) {
    checkRepository(repository);
    const manifest = reference.includes(':')
      ? await this.store.content.manifest(repository, checkDigest(reference))
      : await this.store.content.manifestByTag(repository, reference);
    if (!manifest) throw missing(`${repository} has no manifest ${reference.slice(0, 140)}`);
    const active = await this.trust.state.policyFor(repository);
    const quarantine = (await this.trust.state.quarantined(manifest.digest)) ?? null;
    const pull = await this.trust.gate.check(manifest, true);
    const attachment = isAttachment(manifest.subject, manifest.artifactType, manifest.content);
    const verdict = active?.policy && !attachment ? await this.trust.gate.verdictWithParents(manifest, active) : { reasons: [], satisfied: [] };
    const notes = [
      ...(attachment ? ['exempt from signature checks: an attachment (signature, attestation or SBOM)'] : []),
      ...(pull.wouldRefuse ? [`audit mode: enforcing would refuse (${pull.wouldRefuse})`] : []),
      ...(quarantine?.kind === 'staged' && !pull.refusal ? [`staged: the next pull in namespace ${quarantine.namespace} releases it`] : []),
    ];

    return {
      digest: manifest.digest,
      namespace: active?.namespace ?? null,
      mode: active?.policy?.mode ?? null,
      allowed: pull.refusal === undefined,
      refusal: pull.refusal ?? null,
      notes,
      quarantine,
      reasons: verdict.reasons,
      satisfied: verdict.satisfied,
    };
  }

  /**
   * Blobs in which the secret scanner found something, with the findings (never the secrets):
   * every such blob, or those of one blob, or of an image's layers and config.
   */
  async findings(digest?: string) {
    const wanted = digest === undefined ? undefined : checkDigest(digest);
    const digests = wanted === undefined ? [] : [wanted, ...(await this.store.graph.childrenAnywhere(wanted))];
    const scans = wanted === undefined ? await this.store.trust.scansWithFindings(1000) : (await Promise.all(digests.map((d) => this.store.trust.scan(d)))).flatMap((s) => (s && (s.findings.length > 0 || !s.complete) ? [s] : []));

    return scans.map((s) => ({ digest: s.digest, complete: s.complete, problem: s.problem, findings: s.findings, scannedAt: s.at }));
  }

  /**
   * For every blob with findings: the images that hold it, and every pull of those images or
   * of the blob itself, from the audit log.
   */
  async exposure(digest?: string) {
    const report = [];
    for (const scan of await this.findings(digest)) {
      const images = await this.store.graph.manifestsReferencing(scan.digest, MAX_IMAGES);
      const pulls = [];
      for (const d of new Set([scan.digest, ...images.map((i) => i.digest)])) pulls.push(...(await this.incident.digest(d)).map((p) => ({ ...p, digest: d })));
      pulls.sort((a, b) => a.at.localeCompare(b.at));
      report.push({ digest: scan.digest, rules: [...new Set(scan.findings.map((f) => f.rule))], images, pulls });
    }

    return report;
  }
}

function checkDigest(digest: string): string {
  const parsed = tryParseDigest(digest);
  if (!parsed) throw invalid(`${digest.slice(0, 140)} is not a valid digest`);

  return parsed.digest;
}

function checkRepository(repository: string): void {
  if (!isRepositoryName(repository)) throw invalid(`${repository.slice(0, 100)} is not a valid repository name`);
}

/**
 * The trust stage of `explain` for a repository: what its namespace's policy asks of the
 * action. Per-manifest verdicts come from `trust check`, since they depend on the image.
 */
export function trustStage(trust: TrustService, config: Config) {
  return async (repository: string, action: string): Promise<{ outcome: 'pass' | 'fail' | 'skip'; detail: string }> => {
    const active = await trust.state.policyFor(repository);
    if (!active) return { outcome: 'pass', detail: `no trust policy; secret scan ${config.trust.secretScan.mode}` };
    if (!active.policy) return { outcome: 'fail', detail: active.problem ?? 'policy unreadable' };
    const p = active.policy;
    const where = `policy of namespace ${active.namespace} v${active.version} (${p.mode})`;
    if (action === 'pull') {
      const needs = [
        ...(p.requireSignature ? [`a signature by ${p.signers.map((s) => s.name).join(' or ')}`] : []),
        ...p.attestations.map((a) => `attestation ${a.predicateType}`),
      ];
      return { outcome: 'pass', detail: `${where}: each manifest pulled needs ${needs.length ? needs.join(', ') : 'nothing signed'}; quarantined digests are refused` };
    }
    const rules = [
      p.immutableTags.length ? `immutable tags ${p.immutableTags.join(', ')}` : 'no immutable tags',
      `rollback ${p.rollback === 'deny' ? 'refused' : 'allowed'}`,
      `secret scan ${p.secrets ?? config.trust.secretScan.mode}`,
      ...(p.stagedDelivery ? ['new pushes staged until checks pass'] : []),
    ];

    return { outcome: 'pass', detail: `${where}: ${rules.join('; ')}` };
  };
}

/**
 * Applies the config file's policy files: each is validated and stored (a new version only
 * when it changed), and a policy the file no longer lists is removed. A bad file stops the start.
 */
export async function applyConfigPolicies(store: MetadataStore, config: Config): Promise<string[]> {
  const applied: string[] = [];
  const current = new Map((await store.trust.policies()).map((p) => [p.namespace, p]));
  for (const [namespace, resolved] of readConfigPolicies(config)) {
    const document = JSON.stringify(resolved);
    const existing = current.get(namespace);
    if (existing?.document !== document || existing.source !== 'config') await store.trust.setPolicy(namespace, document, 'config', 'config');
    applied.push(namespace);
  }
  for (const stale of current.values()) {
    if (stale.source === 'config' && !applied.includes(stale.namespace)) await store.trust.removePolicy(stale.namespace);
  }

  return applied;
}

/** Reads and validates every policy file the config names (`config check` and the start use it). */
export function readConfigPolicies(config: Config): Map<string, TrustPolicy> {
  const policies = new Map<string, TrustPolicy>();
  for (const { namespace, file } of config.trust.policies) {
    if (!isNamespaceName(namespace)) throw invalid(`trust.policies: ${namespace.slice(0, 100)} is not a valid namespace name`);
    try {
      policies.set(namespace, resolvePolicy(parseYaml(readFileSync(file, 'utf8')), path.dirname(file)));
    } catch (err) {
      throw invalid(`trust policy file ${file}: ${err instanceof PolicyError ? err.message : (err as Error).message.split('\n')[0]}`);
    }
  }

  return policies;
}

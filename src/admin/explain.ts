import { decide, type Binding, type ResourceScope, type Subject } from '../access/decide.js';
import { addressRefusal, isCidr } from '../access/network.js';
import { Directory, groupPrincipal } from '../identity/directory.js';
import { inNamespace, isRepositoryName } from '../oci/names.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import { invalid, missing } from './errors.js';
import { expired, loadRoster, type Holder, type HolderKind } from './roster.js';

const GROUP_PREFIX = groupPrincipal('');

/** The repository actions an explanation is about (the ones a role can grant, but `*`). */
export const EXPLAIN_ACTIONS = ['pull', 'push', 'delete'] as const;
export type ExplainAction = (typeof EXPLAIN_ACTIONS)[number];

export type Stage = 'identity' | 'bindings' | 'network' | 'trust';
export type StepOutcome = 'pass' | 'fail' | 'skip';

export interface Step {
  stage: Stage;
  outcome: StepOutcome;
  detail: string;
}

type Verdict = Omit<Step, 'stage'>;

export interface Explanation {
  subject: string;
  repository: string;
  action: ExplainAction;
  address: string | null;
  /** `deny` when a stage failed; `allow` otherwise, even when a stage could not be checked. */
  outcome: 'allow' | 'deny';
  /**
   * An allow that holds only if the stages in `conditions` pass: they were skipped because they
   * depend on something the question did not give (the client address). Never set on a deny.
   */
  conditional: boolean;
  /** The skipped stages an allow depends on, each with what it needs; empty otherwise. */
  conditions: Step[];
  steps: Step[];
}

/** The trust policy's verdict for an explanation; plugged in by whoever composes the Admin. */
export type TrustCheck = (repository: string, action: string) => Promise<Verdict>;

export interface WhoCanEntry {
  subject: string;
  kind: HolderKind;
  /** The bindings that grant the action, e.g. `writer on namespace team (via group dev)`. */
  grantedBy: string[];
  /** Address allowlists a request would also have to pass: the credential's and the namespaces'. */
  networks: Array<{ by: string; cidrs: readonly string[] }>;
  disabled: boolean;
  expired: boolean;
}

/**
 * Answers "would this subject be allowed, and why" and "who can", from the same directory
 * snapshot and decision functions that serve requests, so an explanation cannot drift from
 * what the registry does. Names no secret: holders carry names, kinds and states only.
 */
export class ExplainAdmin {
  private readonly directory: Directory;

  constructor(
    private readonly store: MetadataStore,
    private readonly trust?: TrustCheck,
  ) {
    this.directory = new Directory(store);
  }

  /** Walks identity → bindings → network → trust, stopping at the first stage that fails. */
  async explain(query: { subject: string; repository: string; action: string; address?: string }): Promise<Explanation> {
    const action = checkQuery(query.repository, query.action);
    const address = query.address === undefined || query.address === '' ? null : query.address;
    if (address !== null && (address.includes('/') || !isCidr(address))) throw invalid('address must be an IPv4 or IPv6 address');
    const holder = (await loadRoster(this.store)).find((h) => h.name === query.subject);
    if (!holder) throw missing(`no subject "${query.subject}" (users by name, robots as robot+NAME, federation rules as rule+NAME, groups as group:NAME)`);

    const subject = await this.subjectOf(holder);
    const groupsBound = await this.groupsHoldBindings(holder);
    const stages: Array<[Stage, () => Promise<Verdict> | Verdict]> = [
      ['identity', () => identityStep(holder, subject)],
      ['bindings', () => bindingsStep(subject, query.repository, action, droppedGroupsNote(groupsBound, subject))],
      ['network', () => networkStep(subject, query.repository, address)],
      ['trust', () => (this.trust ? this.trust(query.repository, action) : { outcome: 'skip', detail: 'no trust policy configured' })],
    ];
    const steps: Step[] = [];
    for (const [stage, check] of stages) {
      const failed = steps.some((s) => s.outcome === 'fail');
      steps.push({ stage, ...(failed ? { outcome: 'skip', detail: 'not checked: an earlier stage failed' } : await check()) });
    }

    const denied = steps.some((s) => s.outcome === 'fail');
    // With nothing failed, every skip is a stage that could not be checked, not one cut short.
    const conditions = denied ? [] : steps.filter((s) => s.outcome === 'skip');

    return {
      subject: holder.name,
      repository: query.repository,
      action,
      address,
      outcome: denied ? 'deny' : 'allow',
      conditional: conditions.length > 0,
      conditions,
      steps,
    };
  }

  /**
   * Every holder whose bindings grant `action` on `repository`, disabled and expired ones
   * included (and marked), with the bindings that do it and the allowlists that still apply.
   */
  async whoCan(query: { repository: string; action: string }): Promise<WhoCanEntry[]> {
    const action = checkQuery(query.repository, query.action);
    const now = Date.now();
    const entries: WhoCanEntry[] = [];
    for (const holder of await loadRoster(this.store)) {
      // Judged as if enabled, so that a disabled holder that would regain access is listed.
      const subject = { ...(await this.subjectOf(holder)), enabled: true };
      const granting = grantingBindings(subject, query.repository, action);
      if (granting.length === 0) continue;
      entries.push({
        subject: holder.name,
        kind: holder.kind,
        grantedBy: granting.map(bindingText),
        networks: networksOf(subject, query.repository),
        disabled: holder.disabled,
        expired: expired(holder, now),
      });
    }

    return entries;
  }

  /**
   * The subject as a request would see it. A group never signs in itself; it is explained as
   * a member would be with the group's bindings alone, so it counts as enabled.
   */
  private async subjectOf(holder: Holder): Promise<Subject> {
    const subject = await this.directory.subject(holder.principal);

    return holder.kind === 'group' ? { ...subject, enabled: true } : subject;
  }

  /** Whether any of a person's groups holds a binding (the directory may have left them out). */
  private async groupsHoldBindings(holder: Holder): Promise<boolean> {
    if (holder.kind !== 'person') return false;
    const groups = await Promise.all(holder.groups.map((g) => this.directory.subject(groupPrincipal(g))));

    return groups.some((g) => g.bindings.length > 0);
  }
}

function checkQuery(repository: string, action: string): ExplainAction {
  if (!isRepositoryName(repository)) throw invalid(`"${repository}" is not a valid repository name`);
  if (!(EXPLAIN_ACTIONS as readonly string[]).includes(action)) throw invalid(`action must be one of ${EXPLAIN_ACTIONS.join(', ')}`);

  return action as ExplainAction;
}

function identityStep(holder: Holder, subject: Subject): Verdict {
  if (holder.kind === 'group') return { outcome: 'pass', detail: holder.description };
  if (subject.enabled) return { outcome: 'pass', detail: `${holder.description}: enabled` };
  if (holder.disabled) return { outcome: 'fail', detail: `${holder.description}: disabled` };
  if (expired(holder, Date.now())) return { outcome: 'fail', detail: `${holder.description}: expired` };

  return { outcome: 'fail', detail: `${holder.description}: not enabled` };
}

function bindingsStep(subject: Subject, repository: string, action: ExplainAction, note: string): Verdict {
  const granting = grantingBindings(subject, repository, action);
  if (granting.length > 0) return { outcome: 'pass', detail: `${action} granted by ${granting.map(bindingText).join('; ')}${note}` };
  const { reasons } = decide(subject, scopeOf(repository, action));

  return { outcome: 'fail', detail: `no binding grants ${action} on ${repository} (${reasons.join('; ')})${note}` };
}

/** The subject's bindings that each, on their own, grant the action: decided, not recomputed. */
function grantingBindings(subject: Subject, repository: string, action: ExplainAction): Binding[] {
  const scope = scopeOf(repository, action);

  return subject.bindings.filter((b) => decide({ ...subject, bindings: [b] }, scope).granted.includes(action));
}

function scopeOf(repository: string, action: ExplainAction): ResourceScope {
  return { type: 'repository', name: repository, actions: [action] };
}

function bindingText(binding: Binding): string {
  const via = binding.principal.startsWith(GROUP_PREFIX) ? ` (via ${binding.principal})` : '';

  return `${binding.role} on namespace ${binding.namespace}${via}`;
}

/**
 * The directory keeps only a person's own bindings when its groups' would make it reach both
 * production and non-production without an exception; say so, or the missing grant is a puzzle.
 */
function droppedGroupsNote(groupsBound: boolean, subject: Subject): string {
  if (!groupsBound || subject.bindings.some((b) => b.principal.startsWith(GROUP_PREFIX))) return '';

  return '; the bindings of its groups are left out: with its own they would reach production and non-production namespaces';
}

/** The allowlists on the way to `repository`: the credential's own and every enclosing namespace's. */
function networksOf(subject: Subject, repository: string): WhoCanEntry['networks'] {
  const own = subject.allowedCidrs ? [{ by: 'credential', cidrs: subject.allowedCidrs }] : [];
  const namespaces = (subject.namespaceRules ?? []).filter((r) => inNamespace(repository, r.namespace));

  return [...own, ...namespaces.map((r) => ({ by: `namespace ${r.namespace}`, cidrs: r.cidrs }))];
}

function networkStep(subject: Subject, repository: string, address: string | null): Verdict {
  const networks = networksOf(subject, repository);
  if (networks.length === 0) return { outcome: 'pass', detail: 'no address rules apply' };
  const rules = networks.map((n) => `${n.by} allows ${n.cidrs.join(', ')}`).join('; ');
  if (address === null) return { outcome: 'skip', detail: `depends on the client address: ${rules}` };
  const refusal = addressRefusal(address, subject.allowedCidrs ?? null, subject.namespaceRules ?? [], (n) => inNamespace(repository, n));

  return refusal ? { outcome: 'fail', detail: `${refusal} (${rules})` } : { outcome: 'pass', detail: `${address} is allowed: ${rules}` };
}

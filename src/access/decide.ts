import { inNamespace, isRepositoryName } from '../oci/names.js';
import type { NamespaceRule } from './network.js';
import { actionsOf, isRole, type Action } from './roles.js';

/** A role binding as the decision sees it. */
export interface Binding {
  principal: string;
  namespace: string;
  role: string;
}

/** A resource scope from the token protocol: `repository:team/app:pull,push`. */
export interface ResourceScope {
  type: string;
  name: string;
  actions: string[];
}

/** What the decision needs to know about the caller, all loaded before it runs. */
export interface Subject {
  principal: string;
  enabled: boolean;
  bindings: readonly Binding[];
  /** Networks the subject's credential may be used from; null or absent for anywhere. */
  allowedCidrs?: readonly string[] | null;
  /** Address rules of namespaces (every namespace that has one). */
  namespaceRules?: readonly NamespaceRule[];
}

export interface Decision {
  granted: string[];
  /** One line per step, for logs and `explain`; never contains secrets. */
  reasons: string[];
}

const REPOSITORY_ACTIONS: ReadonlySet<string> = new Set(['pull', 'push', 'delete', '*']);

/**
 * Decides which of the requested actions the subject may take on the resource: the
 * intersection of what was asked and what its bindings grant. Pure and synchronous.
 * Unknown resource types, invalid repository names, unknown actions and unknown roles grant
 * nothing.
 */
export function decide(subject: Subject, scope: ResourceScope): Decision {
  if (!subject.enabled) return { granted: [], reasons: ['subject is disabled'] };
  if (scope.type === 'registry' && scope.name === 'catalog') {
    // Every signed-in principal may list the catalog; the listing itself is filtered.
    const granted = scope.actions.filter((a) => a === '*');

    return { granted, reasons: ['catalog listing is filtered per repository'] };
  }
  if (scope.type === 'registry' && scope.name === 'admin') {
    // The admin API: only an admin binding on the root namespace reaches it.
    const admin = subject.bindings.some((b) => b.namespace === '*' && b.role === 'admin');
    const granted = admin ? scope.actions.filter((a) => a === '*') : [];

    return { granted, reasons: [admin ? 'admin on *' : 'the admin API needs the admin role on *'] };
  }
  if (scope.type !== 'repository') return { granted: [], reasons: [`unknown resource type "${scope.type}"`] };
  // `team/../secret` starts with `team/`: the prefix test below is sound only for valid names.
  if (!isRepositoryName(scope.name)) {
    return { granted: [], reasons: ['not a valid repository name'] };
  }

  const allowed = new Set<string>();
  const reasons: string[] = [];
  for (const binding of subject.bindings) {
    if (!isRole(binding.role) || !inNamespace(scope.name, binding.namespace)) continue;
    for (const action of actionsOf(binding.role)) allowed.add(action);
    reasons.push(`${binding.role} on namespace ${binding.namespace}`);
  }
  const granted = scope.actions.filter((a) => REPOSITORY_ACTIONS.has(a) && (allowed.has(a) || allowed.has('*')));
  if (reasons.length === 0) reasons.push('no binding covers this repository');

  return { granted: [...new Set(granted)], reasons };
}

/** True when every one of `required` is among `granted` (where `*` grants everything). */
export function covers(granted: readonly string[], required: readonly Action[]): boolean {
  return granted.includes('*') || required.every((a) => granted.includes(a));
}

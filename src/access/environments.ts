/**
 * Environment separation: a credential bound to production namespaces should not also reach
 * non-production ones, where controls are looser. Pure functions over labels.
 */

/** Labels that mark a production namespace (case-insensitive). */
const PRODUCTION = new Set(['prod', 'production']);

export function isProduction(label: string | null): boolean {
  return label !== null && PRODUCTION.has(label.toLowerCase());
}

/**
 * Why binding a principal to all of `namespaces` would mix production and non-production, or
 * undefined when it would not. A binding reaches its namespace and every namespace nested
 * under it among `known` (a writer on `team` can push to `team/release/app`), so those count
 * too. Unlabelled namespaces count as non-production. The root namespace `*` is the
 * administrators' and is left out: it reaches everything by design.
 */
export function environmentMixing(
  namespaces: readonly string[],
  labelOf: (namespace: string) => string | null,
  known: readonly string[] = [],
): string | undefined {
  const reached = new Set<string>();
  for (const n of namespaces.filter((n) => n !== '*')) {
    reached.add(n);
    for (const k of known) if (k.startsWith(`${n}/`)) reached.add(k);
  }
  const prod = [...reached].filter((n) => isProduction(labelOf(n)));
  const other = [...reached].filter((n) => !isProduction(labelOf(n)));
  if (prod.length === 0 || other.length === 0) return undefined;

  return `would reach production (${prod.join(', ')}) and non-production (${other.join(', ')}) namespaces`;
}

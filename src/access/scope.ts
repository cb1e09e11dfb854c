import type { ResourceScope } from './decide.js';

/**
 * Parses a token-protocol scope (`type:name:action,action`), space-separated when several.
 * The name may contain `host:port`, so the type ends at the first colon and the actions start
 * after the last one (PROTOCOLS.md §2.2). Malformed entries are dropped.
 */
export function parseScopes(values: readonly string[]): ResourceScope[] {
  const scopes: ResourceScope[] = [];
  for (const value of values) {
    for (const item of value.split(' ')) {
      const first = item.indexOf(':');
      const last = item.lastIndexOf(':');
      if (first <= 0 || last <= first) continue;
      const type = item.slice(0, first).replace(/\(.*\)$/, '');
      const name = item.slice(first + 1, last);
      const actions = item
        .slice(last + 1)
        .split(',')
        .filter((a) => /^[a-z*]+$/.test(a));
      if (name && /^[a-z0-9]+$/.test(type)) scopes.push({ type, name, actions });
    }
  }

  return mergeScopes(scopes);
}

/** Joins entries naming the same resource. */
export function mergeScopes(scopes: readonly ResourceScope[]): ResourceScope[] {
  const merged = new Map<string, ResourceScope>();
  for (const s of scopes) {
    const key = `${s.type}:${s.name}`;
    const existing = merged.get(key);
    if (existing) existing.actions = [...new Set([...existing.actions, ...s.actions])];
    else merged.set(key, { type: s.type, name: s.name, actions: [...new Set(s.actions)] });
  }

  return [...merged.values()];
}

/** Formats scopes for a `WWW-Authenticate` challenge. */
export function formatScopes(scopes: readonly ResourceScope[]): string {
  return scopes.map((s) => `${s.type}:${s.name}:${s.actions.join(',')}`).join(' ');
}

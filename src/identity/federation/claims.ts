import type { Conditions } from '../../storage/metadata/federation.js';

const MAX_PATTERN = 1024;
const MAX_CONDITIONS = 32;

/**
 * The claim at `path`, where `.` separates nested keys. A key that itself contains dots (such
 * as Kubernetes' `kubernetes.io`) is found because the longest key present wins at each level.
 */
export function claimAt(payload: unknown, path: string): unknown {
  let node: unknown = payload;
  let rest = path;
  while (rest !== '') {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    const object = node as Record<string, unknown>;
    let key = rest;
    while (!Object.hasOwn(object, key)) {
      const dot = key.lastIndexOf('.');
      if (dot < 0) return undefined;
      key = key.slice(0, dot);
    }
    node = object[key];
    rest = rest.slice(key.length + 1);
  }

  return node;
}

/** Claims are compared as strings: issuers send some ids as numbers and flags as booleans. */
function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap((v) => (typeof v === 'object' ? [] : asStrings(v)));

  return [];
}

const globs = new Map<string, RegExp>();

/**
 * A glob as a regular expression: `*` is any run of characters except `/`, `**` any run at
 * all, `?` one character except `/`; everything else is literal.
 */
function globRegExp(pattern: string): RegExp {
  let re = globs.get(pattern);
  if (!re) {
    const body = pattern
      .split(/(\*\*|\*|\?)/)
      .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 's');
    if (globs.size > 1000) globs.clear();
    globs.set(pattern, re);
  }

  return re;
}

/** True when `value` equals `pattern`, or matches it when the pattern holds `*` or `?`. */
export function matchesPattern(value: string, pattern: string): boolean {
  return /[*?]/.test(pattern) ? globRegExp(pattern).test(value) : value === pattern;
}

/**
 * True when every condition holds: the claim exists and one of its values matches one of the
 * condition's patterns. A missing claim never matches, whatever the pattern.
 */
export function conditionsHold(conditions: Conditions, payload: unknown): boolean {
  return Object.entries(conditions).every(([path, accepted]) => {
    const patterns = Array.isArray(accepted) ? accepted : [accepted];
    const values = asStrings(claimAt(payload, path));

    return values.some((value) => patterns.some((pattern) => matchesPattern(value, pattern)));
  });
}

/** Why a set of conditions is unusable, or undefined when it is fine. */
export function conditionsProblem(conditions: Conditions): string | undefined {
  const entries = Object.entries(conditions);
  if (entries.length === 0) return 'a rule needs at least one claim condition';
  if (entries.length > MAX_CONDITIONS) return `a rule may have at most ${MAX_CONDITIONS} conditions`;
  for (const [path, accepted] of entries) {
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(path)) return `"${path}" is not a claim name`;
    const patterns = Array.isArray(accepted) ? accepted : [accepted];
    if (patterns.length === 0) return `the condition on ${path} lists no values`;
    if (patterns.some((p) => typeof p !== 'string' || p === '' || p.length > MAX_PATTERN)) {
      return `the condition on ${path} has an empty or over-long value`;
    }
    if (patterns.some((p) => /^\**$/.test(p))) return `the condition on ${path} matches anything; name the values it may take`;
  }

  return undefined;
}

import type { Conditions } from '../../storage/metadata/federation.js';

const MAX_PATTERN = 1024;
const MAX_CONDITIONS = 32;

/**
 * The claim at `path`, where `.` separates nested keys; a key may itself contain dots (such as
 * Kubernetes' `kubernetes.io`). When the path can be read in more than one way in this token
 * (a literal `a.b` key next to a nested `a` → `b`), the claim counts as absent: a token must not
 * choose which reading a rule sees.
 */
export function claimAt(payload: unknown, path: string): unknown {
  const found = readings(payload, path, 0);

  return found.length === 1 ? found[0] : undefined;
}

function readings(node: unknown, rest: string, depth: number): unknown[] {
  if (rest === '') return [node];
  if (depth > 16 || node === null || typeof node !== 'object' || Array.isArray(node)) return [];
  const object = node as Record<string, unknown>;
  const found: unknown[] = [];
  for (let end = rest.indexOf('.'); ; end = rest.indexOf('.', end + 1)) {
    const key = end < 0 ? rest : rest.slice(0, end);
    if (Object.hasOwn(object, key)) found.push(...readings(object[key], end < 0 ? '' : rest.slice(end + 1), depth + 1));
    if (end < 0 || found.length > 1) break;
  }

  return found;
}

/** Claims are compared as strings: issuers send some ids as numbers and flags as booleans. */
function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap((v) => (typeof v === 'object' ? [] : asStrings(v)));

  return [];
}

type GlobToken = '*' | '**' | '?' | { literal: string };

/** A glob as tokens: `**` any run of characters, `*` any run without `/`, `?` one character but `/`. */
function tokens(pattern: string): GlobToken[] {
  return pattern
    .split(/(\*\*|\*|\?)/)
    .filter((part) => part !== '')
    .flatMap((part): GlobToken[] => (part === '**' || part === '*' || part === '?' ? [part] : [...part].map((c) => ({ literal: c }))));
}

/**
 * Glob matching by walking all positions of the pattern at once (no backtracking), so the time
 * is at most value length × pattern length whatever the input: a token's claims cannot stall
 * the registry.
 */
function globMatches(value: string, pattern: string): boolean {
  const glob = tokens(pattern);
  const close = (states: Set<number>) => {
    for (const i of states) if (glob[i] === '*' || glob[i] === '**') states.add(i + 1);
    return states;
  };
  let states = close(new Set([0]));
  for (const c of value) {
    const next = new Set<number>();
    for (const i of states) {
      const t = glob[i];
      if (t === undefined) continue;
      if (t === '**' || (t === '*' && c !== '/')) next.add(i);
      else if ((t === '?' && c !== '/') || (typeof t === 'object' && t.literal === c)) next.add(i + 1);
    }
    states = close(next);
    if (states.size === 0) return false;
  }

  return states.has(glob.length);
}

/** True when `value` equals `pattern`, or matches it when the pattern holds `*` or `?`. */
export function matchesPattern(value: string, pattern: string): boolean {
  return /[*?]/.test(pattern) ? globMatches(value, pattern) : value === pattern;
}

/**
 * True when every condition holds: the claim exists and one of its values matches one of the
 * condition's patterns. A missing claim never matches, whatever the pattern.
 */
export function conditionsHold(conditions: Conditions, payload: unknown): boolean {
  return firstMiss(conditions, payload) === undefined;
}

/**
 * The first condition that does not hold, as `claim "NAME" is missing` or `claim "NAME" does
 * not match`; undefined when all hold. Names only, never the token's values: it goes to logs.
 */
export function firstMiss(conditions: Conditions, payload: unknown): string | undefined {
  for (const [path, accepted] of Object.entries(conditions)) {
    const patterns = Array.isArray(accepted) ? accepted : [accepted];
    const values = asStrings(claimAt(payload, path));
    if (values.length === 0) return `claim "${path}" is missing`;
    if (!values.some((value) => patterns.some((pattern) => matchesPattern(value, pattern)))) return `claim "${path}" does not match`;
  }

  return undefined;
}

/** Claims every token of the issuer carries or that say nothing about who is asking. */
const UNIDENTIFYING = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti']);
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a set of conditions is unusable, or undefined when it is fine. */
export function conditionsProblem(conditions: Conditions): string | undefined {
  const entries = Object.entries(conditions);
  if (entries.length === 0) return 'a rule needs at least one claim condition';
  if (entries.length > MAX_CONDITIONS) return `a rule may have at most ${MAX_CONDITIONS} conditions`;
  for (const [path, accepted] of entries) {
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(path) || path.split('.').some((k) => RESERVED.has(k))) return `"${path}" is not a claim name`;
    if (UNIDENTIFYING.has(path)) return `a condition on "${path}" says nothing about who is asking (the issuer and audience are checked already)`;
    const patterns = Array.isArray(accepted) ? accepted : [accepted];
    if (patterns.length === 0) return `the condition on ${path} lists no values`;
    if (patterns.some((p) => typeof p !== 'string' || p === '' || p.length > MAX_PATTERN)) {
      return `the condition on ${path} has an empty or over-long value`;
    }
    if (patterns.some((p) => /^[*?/]*$/.test(p))) return `the condition on ${path} matches anything; name the values it may take`;
  }

  return undefined;
}

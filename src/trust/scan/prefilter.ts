/**
 * One combined search for every rule keyword and context marker.
 *
 * Measured on a tar of JavaScript sources, one alternation regex over a latin1 string ran at
 * ≈ 200 MB/s, twice the speed of a `Buffer.indexOf` pass per keyword (≈ 100 MB/s); a regex
 * factored into a prefix tree was slower than the flat list, so the list stays flat.
 */

import { CONTENT_RULES, type ContentRule } from './rules.js';

/** What a keyword hit means: try these rules there, and/or note these context markers. */
export interface KeywordTargets {
  rules: ContentRule[];
  marker: boolean;
}

function escape(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function buildTargets(): Map<string, KeywordTargets> {
  const targets = new Map<string, KeywordTargets>();
  const entry = (keyword: string): KeywordTargets => {
    let found = targets.get(keyword);
    if (!found) targets.set(keyword, (found = { rules: [], marker: false }));
    return found;
  };
  for (const rule of CONTENT_RULES) {
    for (const keyword of rule.keywords) entry(keyword).rules.push(rule);
    for (const marker of rule.context ?? []) entry(marker).marker = true;
  }

  return targets;
}

/** Keyword → what to do at a hit. */
export const TARGETS: ReadonlyMap<string, KeywordTargets> = buildTargets();

/**
 * Global regex matching any keyword; longest first so a keyword that extends another wins.
 * Callers set `lastIndex` and must not hold it across an await (it is shared).
 */
export const KEYWORDS = new RegExp(
  [...TARGETS.keys()].sort((a, b) => b.length - a.length).map(escape).join('|'),
  'g',
);

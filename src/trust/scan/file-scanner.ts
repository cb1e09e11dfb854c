/**
 * Scans one file's bytes, fed in pieces, with the content rules (and the assignment rule
 * for dotenv files).
 *
 * Bytes are gathered into blocks of up to {@link BLOCK} and read as latin1 (one char per
 * byte, so offsets stay byte offsets and binary files cost the same as text). A keyword hit
 * is judged only once {@link MAX_MATCH} chars after it are at hand (or the file ended), and
 * the last {@link MAX_BEFORE} chars before the judged region are kept for look-behinds, so a
 * secret cut by a block boundary is still judged whole and exactly once.
 */

import { KEYWORDS, TARGETS } from './prefilter.js';
import {
  ASSIGNMENT_RULE,
  MAX_BEFORE,
  MAX_MATCH,
  envValue,
  isEnvFile,
  isSecretAssignment,
  type ContentRule,
} from './rules.js';
import type { Finding } from './types.js';
import { fingerprint, looksFake } from './values.js';

/** Bytes gathered before a search; most files fit in one block and are searched once. */
export const BLOCK = 1024 * 1024;
/** Dotenv files past this size are read only this far for the assignment rule. */
const ENV_TEXT_MAX = 1024 * 1024;

/** A finding of a rule with `context`, held until the file ends. */
interface Conditional {
  finding: Finding;
  context: readonly string[];
}

export class FileScanner {
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private taken = 0;
  /** Text kept from the previous block, and the file offset of its first char. */
  private tail = '';
  private tailStart = 0;
  /** Keyword hits starting before this file offset have been judged. */
  private checkedTo = 0;
  /** Newlines in the file before `tailStart`. */
  private linesBeforeTail = 0;
  private readonly findings = new Map<string, Finding>();
  private readonly conditional: Conditional[] = [];
  private readonly markers = new Set<string>();
  private envText: string | undefined;

  /**
   * @param path where the file sits, as reported in findings
   * @param maxBytes bytes of the file to scan; later bytes are ignored
   * @param withLines whether findings carry line numbers
   */
  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly withLines = true,
  ) {
    if (isEnvFile(path)) this.envText = '';
  }

  /** Feeds the next bytes of the file. */
  write(chunk: Buffer): void {
    const room = this.maxBytes - this.taken;
    if (room <= 0 || chunk.length === 0) return;
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.taken += piece.length;
    this.pieces.push(piece);
    this.pieceBytes += piece.length;
    if (this.pieceBytes >= BLOCK) this.flush(false);
  }

  /** Ends the file and returns its findings, each secret once per rule. */
  finish(): Finding[] {
    this.flush(true);
    if (this.envText) this.scanAssignments(this.envText);
    for (const { finding, context } of this.conditional) {
      if (context.some((marker) => this.markers.has(marker))) this.add(finding);
    }

    return [...this.findings.values()];
  }

  private flush(final: boolean): void {
    const block = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces);
    this.pieces = [];
    this.pieceBytes = 0;
    const fresh = block.toString('latin1');
    if (this.envText !== undefined && this.envText.length < ENV_TEXT_MAX) this.envText += fresh;

    const text = this.tail + fresh;
    const start = this.tailStart;
    const limit = final ? text.length : text.length - MAX_MATCH;
    if (limit > this.checkedTo - start) {
      this.search(text, this.checkedTo - start, limit);
      this.checkedTo = start + limit;
    }
    if (final) return;

    const keepFrom = Math.max(0, this.checkedTo - start - MAX_BEFORE);
    this.linesBeforeTail += countLines(text, 0, keepFrom);
    this.tail = text.slice(keepFrom);
    this.tailStart = start + keepFrom;
  }

  /** Judges keyword hits at text positions [from, limit). */
  private search(text: string, from: number, limit: number): void {
    const lines = new LineCounter(text, this.linesBeforeTail);
    KEYWORDS.lastIndex = from;
    for (let hit = KEYWORDS.exec(text); hit !== null && hit.index < limit; hit = KEYWORDS.exec(text)) {
      // Step one char, not past the keyword, so keywords inside others are seen too.
      KEYWORDS.lastIndex = hit.index + 1;
      const targets = TARGETS.get(hit[0])!;
      if (targets.marker) this.markers.add(hit[0]);
      for (const rule of targets.rules) this.tryRule(rule, text, hit.index, lines);
    }
  }

  private tryRule(rule: ContentRule, text: string, hit: number, lines: LineCounter): void {
    const at = hit - (rule.offset ?? 0);
    if (at < 0) return;
    rule.pattern.lastIndex = at;
    const match = rule.pattern.exec(text);
    if (match === null) return;

    const secret = rule.secret ? rule.secret(match, text) : defaultSecret(match);
    if (secret === undefined) return;
    const finding: Finding = {
      rule: rule.id,
      description: rule.description,
      path: this.path,
      fingerprint: fingerprint(rule.id, secret),
    };
    if (this.withLines) finding.line = lines.lineAt(match.index);
    if (rule.context) this.conditional.push({ finding, context: rule.context });
    else this.add(finding);
  }

  /** Dotenv lines whose key names a secret; lines a content rule already reported are left out. */
  private scanAssignments(text: string): void {
    const reported = new Set([...this.findings.values()].map((finding) => finding.line));
    const lines = new LineCounter(text, 0);
    const pattern = new RegExp(ASSIGNMENT_RULE.line.source, ASSIGNMENT_RULE.line.flags);
    for (const match of text.matchAll(pattern)) {
      const value = envValue(match[2]!);
      if (!isSecretAssignment(match[1]!, value)) continue;
      const line = lines.lineAt(match.index);
      if (reported.has(line)) continue;
      const finding: Finding = {
        rule: ASSIGNMENT_RULE.id,
        description: ASSIGNMENT_RULE.description,
        path: this.path,
        fingerprint: fingerprint(ASSIGNMENT_RULE.id, value),
      };
      if (this.withLines) finding.line = line;
      this.add(finding);
    }
  }

  private add(finding: Finding): void {
    const key = `${finding.rule}:${finding.fingerprint}`;
    if (!this.findings.has(key)) this.findings.set(key, finding);
  }
}

function defaultSecret(match: RegExpExecArray): string | undefined {
  const secret = match[1] ?? match[0];

  return looksFake(secret) ? undefined : secret;
}

function countLines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) count++;

  return count;
}

/** 1-based line numbers for increasing positions in one text, counting each newline once. */
class LineCounter {
  private position = 0;
  private lines: number;

  constructor(
    private readonly text: string,
    linesBefore: number,
  ) {
    this.lines = linesBefore;
  }

  lineAt(position: number): number {
    if (position < this.position) {
      this.lines -= countLines(this.text, position, this.position);
    } else {
      this.lines += countLines(this.text, this.position, position);
    }
    this.position = position;

    return this.lines + 1;
  }
}

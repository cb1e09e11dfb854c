/**
 * Scans one file's bytes, fed in pieces, with the content rules (and the assignment rule
 * for dotenv files).
 *
 * Bytes are gathered into blocks of up to {@link BLOCK} and searched for keywords as bytes;
 * only a block with a hit is turned into a latin1 string (one char per byte, so offsets stay
 * byte offsets and binary files cost the same as text) for the rules' regexes. A keyword hit
 * is judged only once {@link MAX_MATCH} chars after it are at hand (or the file ended), and
 * the last {@link MAX_BEFORE} chars before the judged region are kept for look-behinds, so a
 * secret cut by a block boundary is still judged whole and exactly once.
 *
 * Limitation: rules match single-byte text (ASCII, UTF-8); a secret stored as UTF-16 or
 * inside a compressed file within the layer (a .zip, .jar or .gz) is not seen.
 */

import { findKeywords } from './prefilter.js';
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
  /** Bytes kept from the previous block, and the file offset of the first. */
  private tail = Buffer.alloc(0);
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
  /** Writes `chunk` and returns the scanner, for starting one on bytes already at hand. */
  with(chunk: Buffer): this {
    if (chunk.length > 0) this.write(chunk);

    return this;
  }

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
    if (this.envText !== undefined && this.envText.length < ENV_TEXT_MAX) {
      this.envText += block.toString('latin1');
    }

    const data = this.tail.length > 0 ? Buffer.concat([this.tail, block]) : block;
    const start = this.tailStart;
    const limit = final ? data.length : data.length - MAX_MATCH;
    if (limit > this.checkedTo - start) {
      this.search(data, this.checkedTo - start, limit);
      this.checkedTo = start + limit;
    }
    if (final) return;

    const keepFrom = Math.max(0, this.checkedTo - start - MAX_BEFORE);
    this.linesBeforeTail += countLines(data, 0, keepFrom);
    // A copy, so the kept bytes do not pin the whole decompressed chunk they came from.
    this.tail = Buffer.from(data.subarray(keepFrom));
    this.tailStart = start + keepFrom;
  }

  /** Judges keyword hits at positions [from, limit). */
  private search(data: Buffer, from: number, limit: number): void {
    let text: string | undefined;
    let lines: LineCounter | undefined;
    findKeywords(data, from, limit, (at, targets) => {
      if (targets.marker) this.markers.add(targets.keyword);
      if (targets.rules.length === 0) return;
      text ??= data.toString('latin1');
      lines ??= new LineCounter(data, this.linesBeforeTail);
      for (const rule of targets.rules) this.tryRule(rule, text, at, lines);
    });
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
    const lines = new LineCounter(Buffer.from(text, 'latin1'), 0);
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

function countLines(data: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = data.indexOf(10, from); i !== -1 && i < to; i = data.indexOf(10, i + 1)) count++;

  return count;
}

/** 1-based line numbers for positions in one block, counting each newline once. */
class LineCounter {
  private position = 0;
  private lines: number;

  constructor(
    private readonly data: Buffer,
    linesBefore: number,
  ) {
    this.lines = linesBefore;
  }

  lineAt(position: number): number {
    if (position < this.position) {
      this.lines -= countLines(this.data, position, this.position);
    } else {
      this.lines += countLines(this.data, this.position, position);
    }
    this.position = position;

    return this.lines + 1;
  }
}

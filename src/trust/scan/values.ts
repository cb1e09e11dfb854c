/**
 * Judgements about matched text that a regex cannot make alone: whether a variable name
 * says it holds a secret, whether a value is a placeholder, and what part of a key block
 * identifies it. Strings here are latin1 views of raw bytes (one char per byte).
 */

import { createHash } from 'node:crypto';

/** First 16 hex chars of sha256(`<rule>:<secret bytes>`); see `Finding.fingerprint`. */
export function fingerprint(rule: string, secret: string): string {
  return createHash('sha256').update(`${rule}:`, 'utf8').update(secret, 'latin1').digest('hex').slice(0, 16);
}

/** Name parts that say the value is a credential (`DB_PASSWORD`, `npm-token`, `API_KEY`). */
const SECRET_WORDS = ['PASSWORD', 'PASSWD', 'PASS', 'SECRET', 'TOKEN', 'CREDENTIALS?'];
/** Kinds of key whose value is secret; a bare `KEY` (`GPG_KEY`, a fingerprint) is not. */
const SECRET_KEYS = [
  'API', 'ACCESS', 'SECRET', 'PRIVATE', 'ACCOUNT', 'STORAGE', 'AUTH', 'ENCRYPTION', 'SIGNING', 'MASTER',
];
const SECRET_NAME = new RegExp(
  `(?:^|[_.-])(?:${SECRET_WORDS.join('|')}|(?:${SECRET_KEYS.join('|')})[_-]?KEY)(?:$|[_.-])`,
  'i',
);

/**
 * Last name parts that make the variable about a secret rather than the secret itself:
 * `TOKEN_URL`, `PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`.
 */
const ABOUT_WORDS = [
  'URL', 'URI', 'FILE', 'PATH', 'DIR', 'HOST', 'PORT', 'ENDPOINT', 'ID', 'NAME', 'TYPE', 'MODE',
  'LENGTH', 'TTL', 'EXPIRY', 'EXPIRES', 'TIMEOUT', 'HEADER', 'ALGORITHM', 'FORMAT', 'LOCATION',
  'ENABLED', 'REQUIRED',
];
const NOT_THE_SECRET = new RegExp(`[_.-](?:${ABOUT_WORDS.join('|')})$`, 'i');

/** Whether a variable name says its value is a credential. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_THE_SECRET.test(name);
}

/** Whole values that people write instead of a real secret. */
const PLACEHOLDER_WORDS = new Set([
  'changeme', 'change_me', 'change-me', 'changeit', 'password', 'passwd', 'secret', 'token',
  'example', 'placeholder', 'todo', 'tbd', 'none', 'null', 'nil', 'undefined', 'true', 'false',
  'yes', 'no', 'on', 'off', 'dummy', 'test', 'redacted', 'empty', 'default', 'unset', 'required',
]);

/** Values built from a variable reference, a template, or a filler character. */
const PLACEHOLDER_SHAPES = [
  /^\$/, // ${VAR}, $VAR, $(command)
  /^<.*>$/s,
  /^\{\{.*\}\}$/s,
  /^%[^%]*%$/,
  /^([x*.#_-])\1*$/i,
  /^\.{0,2}\/[\w./-]*$/, // a file path such as /run/secrets/db
  /xxxxxx|\*\*\*\*|example|changeme|change_me|placeholder|replace_?me|^your[_-]|^my[_-]/i,
];

/** Whether a value is empty, a reference to something else, or an obvious stand-in. */
export function isPlaceholder(raw: string): boolean {
  const value = unquote(raw.trim());
  if (value.length < 4) return true;
  if (PLACEHOLDER_WORDS.has(value.toLowerCase())) return true;

  return PLACEHOLDER_SHAPES.some((shape) => shape.test(value));
}

/** Drops one pair of matching surrounding quotes. */
export function unquote(value: string): string {
  const first = value[0];
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first)) {
    return value.slice(1, -1);
  }
  return value;
}

/**
 * Filler that documentation puts in a token body (`sk_test_xxxxxxxxxx`, `…EXAMPLE`).
 * Kept narrow on purpose: real tokens are random, so only long runs of a filler count.
 */
export function looksFake(body: string): boolean {
  return /xxxxxx|XXXXXX|\*\*\*\*|EXAMPLE|example|0{12}/.test(body);
}

/**
 * The base64 body of a PEM-style key block, with armour lines (`-----BEGIN …`), header lines
 * (`Proc-Type:`, `Comment:`), line breaks and JSON `\n` escapes removed, so the same key
 * hashes alike wherever it sits.
 */
export function keyBody(block: string): string {
  return block
    .replace(/\\[nr]/g, '\n')
    .split('\n')
    .filter((line) => !line.includes(':') && !line.startsWith('-----'))
    .join('')
    .replace(/[^A-Za-z0-9+/=]/g, '');
}

/** Decodes standard base64, or returns undefined when `text` is not well-formed base64. */
export function decodeBase64(text: string): string | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64').toString('latin1');
}

/** Whether decoded registry `auth` is a printable `user:password` pair. */
export function isUserPassword(decoded: string): boolean {
  const colon = decoded.indexOf(':');

  return colon > 0 && colon < decoded.length - 1 && /^[\x20-\x7e]+$/.test(decoded);
}

/**
 * Builders for the secret-scanner tests: tar archives written header by header, and made-up
 * secrets assembled at run time so this source holds no literal that looks like a credential.
 */

import { createHash } from 'node:crypto';

export interface TarItem {
  name: string;
  content?: Buffer | string;
  /** Tar type flag: '0' file (default), '2' symlink, '1' hardlink, '5' directory, '3' char device. */
  type?: string;
  linkname?: string;
  /** How the name is stored when it does not fit the 100-byte field. */
  longName?: 'pax' | 'gnu';
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, type: string, linkname = ''): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 100), 0, 'utf8');
  block.write(octal(0o644, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(0, 12), 136);
  block.write(type, 156);
  block.write(linkname, 157);
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148);

  return block;
}

function padded(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512;

  return Buffer.concat([data, Buffer.alloc(pad)]);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;

  return `${length}${body}`;
}

/** A tar archive of the items, ending with two zero blocks. */
export function tarOf(items: TarItem[]): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    const data = Buffer.from(item.content ?? '');
    const type = item.type ?? '0';
    if (item.longName === 'pax') {
      const pax = Buffer.from(paxRecord('path', item.name));
      parts.push(header('PaxHeaders/x', pax.length, 'x'), padded(pax));
    } else if (item.longName === 'gnu') {
      const long = Buffer.from(`${item.name}\0`);
      parts.push(header('././@LongLink', long.length, 'L'), padded(long));
    }
    const size = type === '0' ? data.length : 0;
    parts.push(header(item.name, size, type, item.linkname));
    if (size > 0) parts.push(padded(data));
  }
  parts.push(Buffer.alloc(1024));

  return Buffer.concat(parts);
}

/** Deterministic pseudo-random text over an alphabet (mulberry32). */
export function randomText(length: number, seed: number, alphabet = ALNUM): string {
  let state = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out += alphabet[((t ^ (t >>> 14)) >>> 0) % alphabet.length];
  }

  return out;
}

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64 = `${ALNUM}+/`;

/** The fingerprint the scanner should report for `secret` under `rule`. */
export function expectedFingerprint(rule: string, secret: string): string {
  return createHash('sha256').update(`${rule}:${secret}`).digest('hex').slice(0, 16);
}

/** Splits a string into 64-char lines, as PEM bodies are written. */
export function pemLines(body: string): string {
  return body.match(/.{1,64}/g)!.join('\n');
}

/** A made-up PEM private key block of the given kind ('RSA ', 'OPENSSH ', '' …). */
export function pemKey(kind: string, seed: number, armour = 'PRIVATE KEY'): { text: string; body: string } {
  const body = randomText(256, seed, BASE64);
  const begin = ['-----', 'BEGIN ', kind, armour, '-----'].join('');
  const end = ['-----', 'END ', kind, armour, '-----'].join('');

  return { text: `${begin}\n${pemLines(body)}\n${end}\n`, body };
}

/** Joins parts at run time so no whole token appears in test sources. */
export function token(...parts: string[]): string {
  return parts.join('');
}

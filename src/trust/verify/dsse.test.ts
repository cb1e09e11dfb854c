import { describe, expect, it } from 'vitest';
import { decodeBase64, pae, parseEnvelope, readStatement } from './dsse.js';

describe('DSSE pre-authentication encoding', () => {
  it('prefixes type and payload with their byte lengths in decimal', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString('utf8')).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('counts bytes, not characters', () => {
    expect(pae('t/é', Buffer.from('ü')).toString('utf8')).toBe('DSSEv1 4 t/é 2 ü');
  });
});

describe('base64 as signatures carry it', () => {
  it('accepts standard, URL-safe, unpadded and line-wrapped forms', () => {
    for (const text of ['+/8=', '-_8=', '-_8', '+/\n8=']) expect(decodeBase64(text)).toEqual(Buffer.from([0xfb, 0xff]));
  });

  it('refuses anything else', () => {
    expect(decodeBase64('not base64!')).toBeUndefined();
    expect(decodeBase64('abcde')).toBeUndefined();
  });
});

describe('in-toto statement subject check', () => {
  const target = `sha256:${'0a'.repeat(32)}`;
  const statement = (extra: object) =>
    Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'p', subject: [{ digest: { sha256: '0a'.repeat(32) } }], ...extra }));

  it('returns the predicate when a subject is the target', () => {
    expect(readStatement('application/vnd.in-toto+json', statement({ predicate: { a: 1 } }), target)).toEqual({ predicateType: 'p', predicate: { a: 1 } });
  });

  it('refuses another payload type', () => {
    expect(readStatement('text/plain', statement({}), target)).toEqual({
      problem: 'DSSE payload type is text/plain, not application/vnd.in-toto+json',
    });
  });

  it('refuses a statement of an unknown type', () => {
    expect(readStatement('application/vnd.in-toto+json', statement({ _type: 'https://example.com/x' }), target)).toEqual({
      problem: 'statement type https://example.com/x is not an in-toto Statement v1 or v0.1',
    });
  });

  it('refuses a statement whose subjects are other digests', () => {
    expect(readStatement('application/vnd.in-toto+json', statement({ subject: [{ digest: { sha512: '0a'.repeat(32) } }] }), target)).toEqual({
      problem: `statement subjects do not include ${target}`,
    });
  });
});

describe('envelopes built to stall a pull', () => {
  it('refuses an envelope with more than 8 signatures before trying any (regression: 55,000 signatures took a pull 35 s)', () => {
    const signatures = Array.from({ length: 55_000 }, () => ({ keyid: '', sig: 'AAAA' }));
    const blob = Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: Buffer.from('{}').toString('base64'), signatures }));

    expect(parseEnvelope(blob)).toEqual({ problem: 'DSSE envelope has 55000 signatures; at most 8 are read' });
  });
});

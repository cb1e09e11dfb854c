import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../errors/registry-error.js';
import { digestOf, parseDigest, tryParseDigest } from './digest.js';

const hex64 = 'a'.repeat(64);

describe('digests', () => {
  it('accepts sha256 and sha512 in lower-case hex of the exact length', () => {
    expect(tryParseDigest(`sha256:${hex64}`)?.algorithm).toBe('sha256');
    expect(tryParseDigest(`sha512:${'0'.repeat(128)}`)?.algorithm).toBe('sha512');
  });

  it.each([
    ['upper-case hex', `sha256:${'A'.repeat(64)}`],
    ['short', `sha256:${'a'.repeat(63)}`],
    ['long', `sha256:${'a'.repeat(65)}`],
    ['no algorithm', `:${hex64}`],
    ['no colon', hex64],
    ['totally wrong', 'sha256:totallywrong'],
    ['sha512 of sha256 length', `sha512:${hex64}`],
  ])('refuses %s', (_label, value) => {
    expect(tryParseDigest(value)).toBeUndefined();
    try {
      parseDigest(value);
      expect.unreachable();
    } catch (err) {
      expect(isRegistryError(err, 'DIGEST_INVALID')).toBe(true);
    }
  });

  it('names an unsupported algorithm', () => {
    expect(() => parseDigest(`md5:${'a'.repeat(32)}`)).toThrow(/unsupported digest algorithm "md5"/);
  });

  it('hashes buffers', () => {
    expect(digestOf(Buffer.alloc(0))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(digestOf(Buffer.from('{}'))).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
});

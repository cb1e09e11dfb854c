import { describe, expect, it } from 'vitest';
import { parseRange } from './blobs.js';

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=90-', 100, { start: 90, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-1000', 100, { start: 0, end: 99 }],
    ['bytes=50-1000', 100, { start: 50, end: 99 }],
  ])('%s of %d bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it.each([
    ['bytes=100-', 100],
    ['bytes=5-2', 100],
    ['bytes=-0', 100],
    ['bytes=-', 100],
    ['bytes=0-0', 0],
    ['bytes=a-b', 100],
  ])('%s of %d bytes is unsatisfiable', (header, size) => {
    expect(parseRange(header, size)).toBe('unsatisfiable');
  });

  it('serves the whole blob for no header, several ranges or another unit', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined();
    expect(parseRange('items=0-1', 10)).toBeUndefined();
  });

  it('reads the unit case-insensitively', () => {
    expect(parseRange('Bytes=0-1', 10)).toEqual({ start: 0, end: 1 });
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, OCI_SPEC_CODES, statusOf } from './codes.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
);

describe('error catalogue', () => {
  it('holds the fourteen OCI spec codes', () => {
    expect(OCI_SPEC_CODES).toHaveLength(14);
    for (const code of OCI_SPEC_CODES) expect(ERROR_CATALOGUE).toHaveProperty(code);
  });

  it('documents every code with its status in docs/errors.md, and nothing stale', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const [code, status] of documented) expect(statusOf(code as keyof typeof ERROR_CATALOGUE)).toBe(status);
  });

  it('uses upper-case codes with a message each', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(entry.message.length).toBeGreaterThan(0);
    }
  });
});

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Which top-level folders of src/ each folder may import from (DESIGN.md: one-way layers). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  config: [],
  log: [],
  oci: ['errors'],
  access: ['oci', 'errors'],
  storage: [],
  registry: ['errors', 'oci', 'storage'],
  identity: ['access', 'config', 'errors', 'oci', 'storage'],
  trust: ['config', 'errors', 'oci', 'storage'],
  admin: ['access', 'config', 'errors', 'identity', 'oci', 'storage', 'trust'],
  audit: ['config', 'errors', 'storage'],
  http: ['access', 'admin', 'audit', 'config', 'errors', 'identity', 'log', 'oci', 'registry', 'storage', 'trust'],
};
/** access/ decides; it does no I/O. */
const PURE = new Set(['access']);

const root = path.resolve(import.meta.dirname, '../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sources(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

describe('layering', () => {
  for (const file of sources(root)) {
    const rel = path.relative(root, file);
    const layer = rel.includes(path.sep) ? rel.split(path.sep)[0]! : '(root)';
    if (layer === '(root)') continue;

    it(`${rel} imports only from layers below it`, () => {
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
        if (spec!.startsWith('.')) {
          const target = path.relative(root, path.resolve(path.dirname(file), spec!));
          const targetLayer = target.split(path.sep)[0]!;
          expect(target.startsWith('..'), `${rel} reaches outside src/: ${spec}`).toBe(false);
          if (targetLayer !== layer) expect(ALLOWED[layer], `${rel} imports ${spec}`).toContain(targetLayer);
        } else if (PURE.has(layer)) {
          expect(spec, `${rel} must stay pure`).not.toMatch(/^node:|^fs|^net|^http/);
        }
      }
    });
  }
});

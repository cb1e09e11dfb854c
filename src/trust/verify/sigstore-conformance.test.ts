import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, anchors, fixture, fixtureDigest, fixtureJson, fixtureKey } from '../../../test/helpers/signature-fixtures.js';
import { verifySigstoreBundle } from './sigstore.js';

/**
 * The sigstore-conformance bundle-verify cases (fixtures/sigstore-bundles/README.md): a case whose
 * directory ends in `_fail` must be refused, every other one must verify. The signed artifact
 * stands in for the manifest: its digest is the target, its bytes the signed manifest.
 */
const CASES = ['sigstore-bundles', 'conformance', 'bundle-verify'] as const;

/** Cases @sigstore/verify 3.1.1 cannot judge, and why. */
const UNSUPPORTED: Record<string, string> = {
  'rekor2-dsse-happy-path': 'Rekor v2 "hashedrekord over DSSE" entries (hashedrekord 0.0.2 holding the PAE digest) are newer than the library',
};

const publicGood = fixtureJson('sigstore-bundles', 'trusted_root.public-good.json');

/** managed-key-wrong-key_fail ships a deliberately corrupt key.pub; any other key is as wrong. */
function caseKey(dir: string): KeyObject {
  try {
    return fixtureKey(...CASES, dir, 'key.pub');
  } catch {
    return createPublicKey(fixture('cosign-legacy', 'cosign.pub'));
  }
}

function has(dir: string, file: string): boolean {
  return existsSync(path.join(FIXTURES, ...CASES, dir, file));
}

const dirs = readdirSync(path.join(FIXTURES, ...CASES)).filter((dir) => has(dir, 'bundle.sigstore.json'));

describe('sigstore-conformance bundle-verify cases', () => {
  it('finds the 70 upstream cases', () => {
    expect(dirs).toHaveLength(70);
  });

  for (const dir of dirs) {
    // An unsupported case is refused (a known limitation, README "Limitations"); the test says
    // so, and fails once a library upgrade starts verifying it, so that the list is kept true.
    const expected = !dir.endsWith('_fail') && !UNSUPPORTED[dir];

    it(`${dir} is ${expected ? 'verified' : 'refused'}${UNSUPPORTED[dir] ? ` (unsupported: ${UNSUPPORTED[dir]})` : ''}`, () => {
      const artifact = has(dir, 'artifact') ? [...CASES, dir, 'artifact'] : [...CASES, 'a.txt'];
      const trustedRoot = has(dir, 'trusted_root.json') ? fixtureJson(...CASES, dir, 'trusted_root.json') : publicGood;
      const trust = anchors({
        sigstoreRoots: [{ name: 'root', trustedRoot }],
        keys: has(dir, 'key.pub') ? [{ name: 'key', key: caseKey(dir) }] : [],
      });
      const outcome = verifySigstoreBundle(fixture(...CASES, dir, 'bundle.sigstore.json'), fixtureDigest(...artifact), trust, dir, fixture(...artifact));

      expect(outcome.ok, outcome.ok ? 'verified' : outcome.problem).toBe(expected);
    });
  }
});

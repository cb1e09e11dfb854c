import { describe, expect, it } from 'vitest';
import type { Evidence, Outcome } from '../verify/evidence.js';
import type { TrustPolicy } from './document.js';
import { judge } from './judge.js';

const base: TrustPolicy = {
  mode: 'enforce',
  signers: [
    { name: 'release', key: 'unused by the judge' },
    { name: 'ci', keyless: { trustedRoot: {}, identity: 'https://github.com/acme/app/.github/workflows/*.yml@refs/tags/v*', issuer: 'https://token.actions.githubusercontent.com' } },
    { name: 'corp', x509: { roots: 'unused', subject: 'O=Acme, CN=release' } },
  ],
  requireSignature: true,
  attestations: [],
  immutableTags: [],
  rollback: 'deny',
  stagedDelivery: false,
};

const ok = (evidence: Partial<Evidence> & Pick<Evidence, 'anchor'>): Outcome => ({
  ok: true,
  evidence: { format: 'cosign', kind: 'signature', source: 'tag sha256-x.sig, layer 0', ...evidence },
});
const bad = (problem: string): Outcome => ({ ok: false, source: 'tag sha256-x.sig, layer 0', problem });
const keyless = { anchor: 'ci', identity: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0', issuer: 'https://token.actions.githubusercontent.com' };

describe('judge', () => {
  it('allows a signature by a named key', () => {
    expect(judge(base, [ok({ anchor: 'release' })])).toEqual({ allowed: true, reasons: [], satisfied: ['signature by release (cosign)'] });
  });

  it('says the image has no signatures when nothing is attached', () => {
    expect(judge(base, []).reasons).toEqual(['no valid signature by a trusted signer (release, ci, corp): the image has no signatures']);
  });

  it('quotes at most three verification problems and counts the rest', () => {
    const verdict = judge(base, ['a', 'b', 'c', 'd', 'e'].map(bad));
    expect(verdict.allowed).toBe(false);
    expect(verdict.reasons[0]).toMatch(/: tag sha256-x\.sig, layer 0: a; .*: b; .*: c; and 2 more$/);
  });

  it('accepts a keyless signature only from the configured identity and issuer', () => {
    expect(judge(base, [ok(keyless)]).allowed).toBe(true);
    const otherRepo = judge(base, [ok({ ...keyless, identity: 'https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1' })]);
    expect(otherRepo.reasons[0]).toContain('signed, but the certificate identity "https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1" does not match');
    const branch = judge(base, [ok({ ...keyless, identity: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main' })]);
    expect(branch.allowed).toBe(false);
    const issuer = judge(base, [ok({ ...keyless, issuer: 'https://gitlab.com' })]);
    expect(issuer.reasons[0]).toContain('the certificate issuer is "https://gitlab.com", not "https://token.actions.githubusercontent.com"');
  });

  it('holds a certificate signer to its subject', () => {
    expect(judge(base, [ok({ anchor: 'corp', format: 'notation', subject: 'O=Acme, CN=release' })]).allowed).toBe(true);
    expect(judge(base, [ok({ anchor: 'corp', format: 'notation', subject: 'O=Acme, CN=intern' })]).allowed).toBe(false);
  });

  it('ignores evidence from an anchor the policy does not name', () => {
    expect(judge(base, [ok({ anchor: 'someone-else' })]).reasons[0]).toContain('its anchor is not in the policy');
  });

  it('does not count an attestation as a signature', () => {
    expect(judge(base, [ok({ anchor: 'release', kind: 'attestation', predicateType: 'https://slsa.dev/provenance/v1' })]).allowed).toBe(false);
  });

  describe('required attestations', () => {
    const policy: TrustPolicy = {
      ...base,
      requireSignature: false,
      attestations: [
        {
          predicateType: 'https://slsa.dev/provenance/v1',
          signers: ['ci'],
          match: { 'runDetails.builder.id': 'https://github.com/acme/*', 'buildDefinition.externalParameters.workflow.repository': ['https://github.com/acme/app', 'https://github.com/acme/lib'] },
        },
      ],
    };
    const provenance = (predicate: unknown, anchor = 'ci') =>
      ok({ ...keyless, anchor, kind: 'attestation', predicateType: 'https://slsa.dev/provenance/v1', predicate });
    const good = {
      runDetails: { builder: { id: 'https://github.com/acme/builder@v1' } },
      buildDefinition: { externalParameters: { workflow: { repository: 'https://github.com/acme/lib' } } },
    };

    it('is met by a matching attestation from the named signer', () => {
      expect(judge(policy, [provenance(good)])).toMatchObject({ allowed: true, satisfied: ['attestation https://slsa.dev/provenance/v1 by ci'] });
    });

    it('names the field that does not match', () => {
      const verdict = judge(policy, [provenance({ ...good, runDetails: { builder: { id: 'https://evil.example/b' } } })]);
      expect(verdict.reasons).toEqual(['attestation https://slsa.dev/provenance/v1 does not match the policy: runDetails.builder.id is "https://evil.example/b", wanted "https://github.com/acme/*"']);
    });

    it('treats an absent field as a mismatch', () => {
      expect(judge(policy, [provenance({ runDetails: {} })]).reasons[0]).toContain('runDetails.builder.id is absent or not a string');
    });

    it('is not met by another signer or another predicate type', () => {
      expect(judge(policy, [provenance(good, 'release')]).reasons).toEqual(['missing attestation https://slsa.dev/provenance/v1 signed by ci']);
      const v02 = ok({ ...keyless, kind: 'attestation', predicateType: 'https://slsa.dev/provenance/v0.2', predicate: good });
      expect(judge(policy, [v02]).allowed).toBe(false);
    });

    it('passes when any one of several attestations matches', () => {
      expect(judge(policy, [provenance({}), provenance(good)]).allowed).toBe(true);
    });
  });
});

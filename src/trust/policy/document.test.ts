import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../../test/helpers/signature-fixtures.js';
import { PolicyError, resolvePolicy } from './document.js';

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('resolvePolicy', () => {
  it('fills in defaults: enforce, signature required when a signer is named, rollback refused', () => {
    expect(resolvePolicy({ signers: [{ name: 'release', key: pub }] })).toEqual({
      mode: 'enforce',
      signers: [{ name: 'release', key: pub }],
      requireSignature: true,
      attestations: [],
      immutableTags: [],
      rollback: 'deny',
      stagedDelivery: false,
    });
    expect(resolvePolicy({ immutableTags: ['v*'] }).requireSignature).toBe(false);
  });

  it('reads key and trusted-root files relative to the policy file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'policy-'));
    writeFileSync(path.join(dir, 'release.pub'), pub);
    const root = readFileSync(path.join(FIXTURES, 'sigstore-bundles', 'trusted_root.public-good.json'), 'utf8');
    writeFileSync(path.join(dir, 'root.json'), root);
    const policy = resolvePolicy(
      { signers: [{ name: 'release', key: 'release.pub' }, { name: 'ci', keyless: { trustedRoot: 'root.json', identity: 'x', issuer: 'y' } }] },
      dir,
    );
    expect(policy.signers[0]!.key).toBe(pub);
    expect(policy.signers[1]!.keyless!.trustedRoot).toEqual(JSON.parse(root));
  });

  it.each([
    [{ mode: 'strict' }, /mode/],
    [{ signers: [{ name: 'Bad Name', key: pub }] }, /signer names/],
    [{ signers: [{ name: 'k' }] }, /exactly one of key, keyless or x509/],
    [{ signers: [{ name: 'k', key: pub, x509: { roots: 'x' } }] }, /exactly one of key, keyless or x509/],
    [{ signers: [{ name: 'k', key: pub }, { name: 'k', key: pub }] }, /signer k is named twice/],
    [{ signers: [{ name: 'k', keyless: { trustedRoot: {}, identity: 'a', issuer: 'b' } }] }, /trustedRoot has no certificateAuthorities or tlogs/],
    [{ signers: [{ name: 'k', keyless: { trustedRoot: {}, issuer: 'b' } }] }, /identity/],
    [{ signers: [{ name: 'k', x509: { roots: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' } }] }, /roots holds no PEM certificate/],
    [{ signers: [{ name: 'k', key: pub }], attestations: [{ predicateType: 'p', signers: ['nobody'] }] }, /unknown signer\(s\): nobody/],
    [{ requireSignature: true }, /no signer is named/],
    [{ immutableTags: ['v/*'] }, /tag patterns/],
    [{ secrets: 'loud' }, /secrets/],
    [{ extra: true }, /Unrecognized key|unrecognized/i],
  ])('refuses %j', (input, message) => {
    expect(() => resolvePolicy(input)).toThrow(PolicyError);
    expect(() => resolvePolicy(input)).toThrow(message);
  });

  it('refuses a trusted root that names no usable authority or log (regression: garbage objects were accepted)', () => {
    const garbage = { certificateAuthorities: [{ x: 1 }], tlogs: ['zz'] };
    expect(() => resolvePolicy({ signers: [{ name: 'ci', keyless: { trustedRoot: garbage, identity: 'a', issuer: 'b' } }] })).toThrow(/^signer ci: trusted root/);
  });

  it('names at most five problems, each briefly', () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`unknown${i}`, i]));
    const message = (() => {
      try {
        resolvePolicy({ ...many, mode: 'x'.repeat(5000) });
      } catch (err) {
        return (err as Error).message;
      }
    })()!;
    expect(message.length).toBeLessThan(1500);
  });

  it('refuses file paths where only inline material may come (the admin API)', () => {
    expect(() => resolvePolicy({ signers: [{ name: 'k', key: '/etc/passwd' }] })).toThrow('signer k: key must be inline (PEM or JSON); file paths are read only from policy files');
  });

  it('refuses a private key without repeating it', () => {
    const secret = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      resolvePolicy({ signers: [{ name: 'k', key: secret }] });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe('signer k: key is a private key; give the public key');
    }
  });
});

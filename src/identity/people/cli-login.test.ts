import { describe, expect, it } from 'vitest';
import { registryAddress, withIdentityToken } from './cli-login.js';

describe('portcullis login helpers', () => {
  it('reads a registry address with or without a scheme', () => {
    expect(registryAddress('registry.example.test:5000')).toEqual({ origin: 'https://registry.example.test:5000', host: 'registry.example.test:5000' });
    expect(registryAddress('http://127.0.0.1:5000/')).toEqual({ origin: 'http://127.0.0.1:5000', host: '127.0.0.1:5000' });
    expect(() => registryAddress('ftp://registry.example.test')).toThrow(/http\(s\) URL/);
  });

  it('replaces only the registry entry and keeps the rest of the file', () => {
    const before = JSON.stringify({ auths: { 'r.test': { auth: 'b2xkOnB3' }, 'o.test': { auth: 'eDp5' } }, detachKeys: 'ctrl-q' });
    const after = JSON.parse(withIdentityToken(before, 'r.test', 'ann', 'pcr_x').text) as Record<string, unknown>;
    expect(after).toEqual({
      auths: { 'r.test': { auth: Buffer.from('ann:').toString('base64'), identitytoken: 'pcr_x' }, 'o.test': { auth: 'eDp5' } },
      detachKeys: 'ctrl-q',
    });
    expect(withIdentityToken(undefined, 'r.test', 'ann', 'pcr_x').warning).toBeUndefined();
  });

  it('warns when a credential helper would shadow the entry, and refuses a file that is not JSON', () => {
    expect(withIdentityToken('{"credsStore":"desktop"}', 'r.test', 'ann', 'pcr_x').warning).toMatch(/credential helper/);
    expect(withIdentityToken('{"credHelpers":{"r.test":"pass"}}', 'r.test', 'ann', 'pcr_x').warning).toMatch(/credential helper/);
    expect(() => withIdentityToken('not json', 'r.test', 'ann', 'pcr_x')).toThrow();
    expect(() => withIdentityToken('[]', 'r.test', 'ann', 'pcr_x')).toThrow(/not a JSON object/);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UploadStateSigner } from './upload-state.js';

const state = { id: 'a1b2', repository: 'team/app', owner: 'user:u1', algorithm: null, createdAt: 1700000000000 };

describe('UploadStateSigner', () => {
  const signer = new UploadStateSigner(randomBytes(32));

  it('round-trips what it signed', () => {
    expect(signer.verify(signer.sign(state))).toEqual(state);
  });

  it('refuses a changed body, a changed signature, another key and garbage', () => {
    const signed = signer.sign(state);
    const [body, mac] = signed.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify(['a1b2', 'secret/app', 'user:u1', null, 1700000000000])).toString('base64url');
    expect(signer.verify(`${forged}.${mac}`)).toBeUndefined();
    expect(signer.verify(`${body}.${mac.slice(0, -2)}AA`)).toBeUndefined();
    expect(new UploadStateSigner(randomBytes(32)).verify(signed)).toBeUndefined();
    for (const junk of [undefined, '', '.', 'abc', `${body}.`, 'x'.repeat(5000)]) expect(signer.verify(junk)).toBeUndefined();
  });

  it('refuses a short key at construction', () => {
    expect(() => new UploadStateSigner(randomBytes(8))).toThrow(TypeError);
  });
});

import { describe, expect, it } from 'vitest';
import {
  anchors,
  fixture,
  fixtureDigest,
  fixtureKey,
  signatureLayer,
  store,
} from '../../../test/helpers/signature-fixtures.js';
import { verifyCosignLayer } from './cosign.js';

/** Real cosign signatures from containers/image (fixtures/cosign-legacy/README.md). */
const DIR = 'cosign-legacy';
const VALID_MANIFEST = fixtureDigest(DIR, 'dir-img-cosign-valid', 'manifest.json');
const cosignKey = { name: 'cosign', key: fixtureKey(DIR, 'cosign.pub') };
const cosign2Key = { name: 'cosign2', key: fixtureKey(DIR, 'cosign2.pub') };
const bothKeys = anchors({ keys: [cosign2Key, cosignKey] });

describe('cosign legacy signatures made with a key', () => {
  it('manifest digest of the fixture is the one its README names', () => {
    expect(VALID_MANIFEST).toBe('sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00');
  });

  for (const [name, file] of [
    ['cosign-made signature', ['dir-img-cosign-valid', 'signature-1']],
    ['second signature of the same manifest', ['dir-img-cosign-valid-2', 'signature-2']],
    ['containers/image-made signature with a tag and optional fields', ['dir-img-cosign-valid-with-tag', 'signature-1']],
  ] as const) {
    it(`${name} verifies with cosign.pub and names that key`, () => {
      const outcome = verifyCosignLayer(signatureLayer(DIR, ...file), VALID_MANIFEST, bothKeys, 'tag x.sig, layer 0');

      expect(outcome).toEqual({
        ok: true,
        evidence: { format: 'cosign', kind: 'signature', anchor: 'cosign', source: 'tag x.sig, layer 0' },
      });
    });
  }

  it('a signature with a Rekor bundle verifies with cosign2.pub alone', () => {
    const target = fixtureDigest(DIR, 'dir-img-cosign-key-rekor-valid', 'manifest.json');
    const outcome = verifyCosignLayer(signatureLayer(DIR, 'dir-img-cosign-key-rekor-valid', 'signature-1'), target, bothKeys, 's');

    expect(outcome.ok && outcome.evidence.anchor).toBe('cosign2');
  });

  it('a valid signature of another manifest is refused, naming both digests', () => {
    const target = fixtureDigest(DIR, 'dir-img-cosign-modified-manifest', 'manifest.json');
    const outcome = verifyCosignLayer(signatureLayer(DIR, 'dir-img-cosign-valid', 'signature-1'), target, bothKeys, 's');

    expect(outcome).toEqual({ ok: false, source: 's', problem: `payload names ${VALID_MANIFEST} not ${target}` });
  });

  it('a signature by an unknown key is refused', () => {
    const outcome = verifyCosignLayer(signatureLayer(DIR, 'unknown-cosign-key.signature'), VALID_MANIFEST, bothKeys, 's');

    expect(outcome).toEqual({ ok: false, source: 's', problem: 'signature does not verify with any trusted key' });
  });

  it('a text/plain attachment is not taken for a signature', () => {
    const layer = signatureLayer(DIR, 'dir-img-cosign-other-attachment', 'signature-1');
    const outcome = verifyCosignLayer(layer, VALID_MANIFEST, bothKeys, 's');

    expect(outcome).toEqual({ ok: false, source: 's', problem: 'layer is text/plain, not a cosign signature' });
  });

  it('the right key is not enough when no key is configured', () => {
    const layer = signatureLayer(DIR, 'dir-img-cosign-valid', 'signature-1');

    expect(verifyCosignLayer(layer, VALID_MANIFEST, anchors({}), 's')).toMatchObject({
      ok: false,
      problem: 'no trusted key is configured and the signature carries no certificate',
    });
  });
});

describe('cosign legacy signature with a certificate from a private CA', () => {
  const layer = signatureLayer(DIR, 'dir-img-cosign-pki-valid', 'signature-1');
  const target = fixtureDigest(DIR, 'dir-img-cosign-pki-valid', 'manifest.json');
  const corp = store('corp', fixture(DIR, 'pki_root_crts.pem'), fixture(DIR, 'pki_intermediate_crts.pem'));

  it('verifies against a store of the fixture roots and intermediates, reporting SAN and subject', () => {
    const outcome = verifyCosignLayer(layer, target, anchors({ certificateStores: [corp] }), 's');

    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.evidence).toMatchObject({ format: 'cosign', kind: 'signature', anchor: 'corp', identity: 'qiwan@redhat.com' });
    expect(outcome.evidence.subject).toBeTypeOf('string');
  });

  it('is refused by a store of another CA', () => {
    const wrong = store('wrong', fixture('cosign-keyless', 'containers-image-fulcio-rekor', 'fulcio_v1.crt.pem'));
    const outcome = verifyCosignLayer(layer, target, anchors({ certificateStores: [wrong] }), 's');

    expect(outcome).toMatchObject({ ok: false, problem: 'certificate store "wrong": certificate does not chain to a trusted root' });
  });

  it('is refused when nothing but keys is trusted', () => {
    const outcome = verifyCosignLayer(layer, target, bothKeys, 's');

    expect(outcome).toMatchObject({
      ok: false,
      problem: 'certificate-signed, but no certificate store is configured and there is no Rekor bundle',
    });
  });
});

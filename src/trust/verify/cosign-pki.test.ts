import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchors, fixture } from '../../../test/helpers/signature-fixtures.js';
import { SIMPLE_SIGNING_MEDIA_TYPE, verifyCosignLayer, type CosignLayer } from './cosign.js';
import { parseCertificates } from './x509.js';

/** A private CA made with openssl: root → intermediate → leaves, one of them long expired. */
const CONFIG = `
[ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
[any_name]
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[leaf_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = email:builder@example.com
`;

let dir: string;
const pem: Record<string, string> = {};
let leafKey: KeyObject;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function request(name: string, subject: string): void {
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'portcullis-pki-'));
  writeFileSync(path.join(dir, 'ca.cnf'), CONFIG);
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'serial'), '10\n');
  openssl('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key', '-out', 'root.pem',
    '-subj', '/CN=Test Root', '-days', '3650', '-config', 'ca.cnf', '-extensions', 'ca_ext');
  request('inter', '/CN=Test Intermediate');
  openssl('x509', '-req', '-in', 'inter.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2', '-days', '3650',
    '-extfile', 'ca.cnf', '-extensions', 'ca_ext', '-out', 'inter.pem');
  request('leaf', '/CN=Build Signer');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'inter.pem', '-CAkey', 'inter.key', '-set_serial', '3', '-days', '365',
    '-extfile', 'ca.cnf', '-extensions', 'leaf_ext', '-out', 'leaf.pem');
  // The same key, certified for January 2020 only.
  openssl('ca', '-batch', '-config', 'ca.cnf', '-cert', 'inter.pem', '-keyfile', 'inter.key', '-in', 'leaf.csr', '-out', 'expired.pem',
    '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-extensions', 'leaf_ext', '-notext');
  for (const name of ['root', 'inter', 'leaf', 'expired']) pem[name] = readFileSync(path.join(dir, `${name}.pem`), 'utf8');
  leafKey = createPrivateKey(readFileSync(path.join(dir, 'leaf.key')));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TARGET = `sha256:${createHash('sha256').update('a manifest').digest('hex')}`;
const PAYLOAD = Buffer.from(`{"critical":{"image":{"docker-manifest-digest":"${TARGET}"},"type":"cosign container image signature"},"optional":null}`);

function layer(certificate: string, chain: string | undefined, key: KeyObject = leafKey): CosignLayer {
  const annotations: Record<string, string> = {
    'dev.cosignproject.cosign/signature': sign('sha256', PAYLOAD, key).toString('base64'),
    'dev.sigstore.cosign/certificate': certificate,
  };
  if (chain !== undefined) annotations['dev.sigstore.cosign/chain'] = chain;

  return { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, annotations, blob: PAYLOAD };
}

function corp(intermediates: string[] = []) {
  return anchors({ certificateStores: [{ name: 'corp', roots: parseCertificates(pem.root!), intermediates: parseCertificates(intermediates.join('')) }] });
}

describe('cosign signature with a certificate from a private CA made with openssl', () => {
  it('verifies when the layer carries the intermediate, naming store, SAN and subject', () => {
    expect(verifyCosignLayer(layer(pem.leaf!, pem.inter! + pem.root!), TARGET, corp(), 's')).toEqual({
      ok: true,
      evidence: { format: 'cosign', kind: 'signature', anchor: 'corp', identity: 'builder@example.com', subject: 'CN=Build Signer', source: 's' },
    });
  });

  it('verifies when only the store holds the intermediate', () => {
    expect(verifyCosignLayer(layer(pem.leaf!, undefined), TARGET, corp([pem.inter!]), 's').ok).toBe(true);
  });

  it('is refused when no one supplies the intermediate', () => {
    expect(verifyCosignLayer(layer(pem.leaf!, undefined), TARGET, corp(), 's')).toMatchObject({
      ok: false,
      problem: 'certificate store "corp": certificate does not chain to a trusted root',
    });
  });

  it('is refused when the leaf has expired, even though the signature is good', () => {
    const outcome = verifyCosignLayer(layer(pem.expired!, pem.inter!), TARGET, corp(), 's');

    expect(outcome).toMatchObject({ ok: false, problem: expect.stringMatching(/^certificate store "corp": certificate CN=Build Signer is not valid at /) });
  });

  it('is refused when the signature was made by a key other than the certificate\'s', () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

    expect(verifyCosignLayer(layer(pem.leaf!, pem.inter!, stranger), TARGET, corp(), 's')).toMatchObject({
      ok: false,
      problem: 'signature does not verify with the key of certificate CN=Build Signer',
    });
  });

  it('is refused, not thrown, when the certificate annotation is garbage', () => {
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

    expect(verifyCosignLayer(layer(garbage, undefined), TARGET, corp(), 's')).toMatchObject({
      ok: false,
      problem: 'dev.sigstore.cosign/certificate annotation is not a valid certificate',
    });
  });

  it('is refused by a store trusting only another CA', () => {
    const fulcio = parseCertificates(fixture('cosign-keyless', 'containers-image-fulcio-rekor', 'fulcio_v1.crt.pem'));
    const other = anchors({ certificateStores: [{ name: 'other', roots: fulcio, intermediates: [] }] });

    expect(verifyCosignLayer(layer(pem.leaf!, pem.inter! + pem.root!), TARGET, other, 's')).toMatchObject({
      ok: false,
      problem: 'certificate store "other": certificate does not chain to a trusted root',
    });
  });
});

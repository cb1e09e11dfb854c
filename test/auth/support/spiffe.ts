import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

const run = promisify(execFile);

/** A certificate and its private key, as PEM text and as files. */
export interface Issued {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** The extensions of a trust domain's (or the server's) root CA. */
export function caExtensions(uri?: string): string[] {
  return [
    'basicConstraints = critical,CA:true',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
    ...(uri ? [`subjectAltName = URI:${uri}`] : []),
  ];
}

/** The extensions of an X.509-SVID leaf naming `uris` (one, unless a test wants a bad SVID). */
export function svidExtensions(...uris: string[]): string[] {
  return [
    'basicConstraints = critical,CA:false',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = clientAuth',
    'authorityKeyIdentifier = keyid',
    `subjectAltName = ${uris.map((u) => `URI:${u}`).join(', ')}`,
  ];
}

/** The extensions of the registry's own certificate, for https://127.0.0.1. */
export const SERVER_EXTENSIONS = [
  'basicConstraints = critical,CA:false',
  'keyUsage = critical,digitalSignature',
  'extendedKeyUsage = serverAuth',
  'subjectAltName = IP:127.0.0.1',
];

/** A throw-away PKI in a temp dir, made with the openssl CLI (EC P-256 keys). */
export class Pki {
  private constructor(readonly dir: string) {}

  static async create(): Promise<Pki> {
    return new Pki(await mkdtemp(join(tmpdir(), 'portcullis-spiffe-')));
  }

  /** A self-signed CA certificate valid for two days. */
  ca(name: string, extensions: string[]): Promise<Issued> {
    return this.make(name, extensions, async (conf, files) => {
      await openssl(['req', '-x509', '-config', conf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', files.keyFile, '-out', files.certFile, '-days', '2']);
    });
  }

  /**
   * A certificate signed by `signer`. `days` is its lifetime from now; -1 makes one that
   * expired a day ago (openssl 3.0 has no -not_after, but `x509 -days -1` ends it yesterday).
   */
  leaf(name: string, signer: Issued, extensions: string[], days = 2): Promise<Issued> {
    return this.make(name, extensions, async (conf, files) => {
      const csr = join(this.dir, `${name}.csr`);
      await openssl(['req', '-new', '-config', conf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', files.keyFile, '-out', csr]);
      await openssl(['x509', '-req', '-in', csr, '-CA', signer.certFile, '-CAkey', signer.keyFile, '-extfile', conf, '-extensions', 'ext', '-days', String(days), '-out', files.certFile]);
    });
  }

  /** Writes a file into the PKI's directory and returns its path. */
  async write(name: string, text: string): Promise<string> {
    const file = join(this.dir, name);
    await writeFile(file, text);

    return file;
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }

  private async make(
    name: string,
    extensions: string[],
    create: (conf: string, files: { certFile: string; keyFile: string }) => Promise<void>,
  ): Promise<Issued> {
    const conf = join(this.dir, `${name}.cnf`);
    const files = { certFile: join(this.dir, `${name}.crt`), keyFile: join(this.dir, `${name}.key`) };
    const section = ['[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = ext'];
    await writeFile(conf, [...section, '[dn]', `CN = ${name}`, '[ext]', ...extensions, ''].join('\n'));
    await create(conf, files);

    return { ...files, cert: await readFile(files.certFile, 'utf8'), key: await readFile(files.keyFile, 'utf8') };
  }
}

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args);
}

/** A JWT-SVID signing key of a trust domain. */
export interface SvidKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function svidKey(kid = `k-${randomBytes(6).toString('hex')}`, alg = 'ES256'): Promise<SvidKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);

  return { kid, alg, privateKey, publicJwk: await exportJWK(publicKey) };
}

/**
 * A SPIFFE bundle (a JWK set): `jwt-svid` entries for `keys`, `x509-svid` entries (the CA
 * certificate in `x5c` with its public key) for `authorities`.
 */
export function bundle(keys: SvidKey[], authorities: Issued[] = [], sequence = 1): string {
  const x509 = authorities.map((ca) => {
    const cert = new X509Certificate(ca.cert);

    return { ...cert.publicKey.export({ format: 'jwk' }), use: 'x509-svid', x5c: [cert.raw.toString('base64')] };
  });
  const jwt = keys.map((k) => ({ ...k.publicJwk, use: 'jwt-svid', kid: k.kid }));

  return JSON.stringify({ spiffe_sequence: sequence, spiffe_refresh_hint: 300, keys: [...jwt, ...x509] });
}

/**
 * Signs a JWT-SVID: by default for audience `portcullis`, valid five minutes, header
 * {alg, kid, typ: JWT}. `claims` and `header` add to or replace those.
 */
export function signSvid(key: SvidKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);

  return new SignJWT({ aud: 'portcullis', iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

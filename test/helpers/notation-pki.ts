import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A certificate made by the test PKI and the private key it certifies. */
export interface Issued {
  name: string;
  cert: X509Certificate;
  key: KeyObject;
}

export interface IssueOptions {
  /** An openssl `-subj` string, for example `/C=US/O=Portcullis Test/CN=signer`. */
  subject: string;
  key: 'rsa2048' | 'rsa1024' | 'ec256';
  /** Lines of an openssl extension section, for example `keyUsage=critical,digitalSignature`. */
  extensions: string[];
  /** The issuing certificate; a certificate without one signs itself. */
  issuer?: Issued;
  days?: number;
  digest?: 'sha256' | 'sha1';
}

const KEY_ARGUMENTS = {
  rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  ec256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
};

/** CA extensions as the Notary Project certificate rules want them. */
export const CA_EXTENSIONS = [
  'basicConstraints=critical,CA:TRUE',
  'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
];

/** Signing-certificate extensions as the Notary Project certificate rules want them. */
export const LEAF_EXTENSIONS = [
  'basicConstraints=CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=codeSigning',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
];

/** Keys and certificates made with the openssl command in a temporary directory. */
export class TestPki {
  private serial = 1;

  private constructor(private readonly dir: string) {}

  static create(): TestPki {
    return new TestPki(mkdtempSync(path.join(tmpdir(), 'notation-pki-')));
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  issue(name: string, options: IssueOptions): Issued {
    this.openssl(['genpkey', ...KEY_ARGUMENTS[options.key], '-out', `${name}.key`]);
    this.openssl([
      'req',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      options.subject,
      '-out',
      `${name}.csr`,
    ]);
    writeFileSync(path.join(this.dir, `${name}.ext`), `[v3]\n${options.extensions.join('\n')}\n`);
    const signer = options.issuer
      ? ['-CA', `${options.issuer.name}.crt`, '-CAkey', `${options.issuer.name}.key`]
      : ['-signkey', `${name}.key`];
    this.openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      ...signer,
      '-set_serial',
      String(this.serial++),
      '-days',
      String(options.days ?? 30),
      `-${options.digest ?? 'sha256'}`,
      '-extfile',
      `${name}.ext`,
      '-extensions',
      'v3',
      '-out',
      `${name}.crt`,
    ]);

    return {
      name,
      cert: new X509Certificate(readFileSync(path.join(this.dir, `${name}.crt`))),
      key: createPrivateKey(readFileSync(path.join(this.dir, `${name}.key`))),
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

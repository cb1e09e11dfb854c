import { describe, expect, it } from 'vitest';
import { scanLayer } from '../../src/trust/scan/index.js';
import {
  ALNUM,
  expectedFingerprint,
  pemKey,
  randomText,
  tarOf,
  token,
  type TarItem,
} from './scan-helpers.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = `${ALNUM}+/`;
const HEX = '0123456789abcdef';
const DIGITS = '0123456789';

async function scanFiles(items: TarItem[]) {
  return scanLayer([tarOf(items)]);
}

interface Case {
  name: string;
  rule: string;
  path: string;
  content: string;
  /** The value the fingerprint covers. */
  secret: string;
  line: number;
}

const rsa = pemKey('RSA ', 1);
const openssh = pemKey('OPENSSH ', 2);
const ec = pemKey('EC ', 3);
const dsa = pemKey('DSA ', 4);
const pkcs8 = pemKey('', 5);
const encrypted = pemKey('ENCRYPTED ', 6);
const pgp = pemKey('PGP ', 7, 'PRIVATE KEY BLOCK');
const sigstore = pemKey('ENCRYPTED SIGSTORE ', 8);
const legacyEncrypted = pemKey('RSA ', 9);
const gcpKey = pemKey('', 10);

const awsId = token('AK', 'IA', randomText(16, 11, BASE32));
const awsSecret = token('aB3', randomText(37, 12, BASE64));
const azureAccountKey = token(randomText(86, 13, BASE64), '==');
const azureClientSecret = token(randomText(3, 14), '8', 'Q~', randomText(34, 15, `${ALNUM}_~.-`));
const githubPat = token('github', '_pat_', randomText(22, 16), '_', randomText(59, 17));
const registryAuth = Buffer.from(`builder:${randomText(20, 18)}`).toString('base64');
const clientKey = Buffer.from(pemKey('EC ', 19).text).toString('base64');
const kubeToken = token('eyJhbGciOiJSUzI1NiJ9', '.', randomText(40, 20), '.', randomText(40, 21));
const npmrcToken = token(randomText(8, 22, HEX), '-', randomText(4, 23, HEX), '-', randomText(12, 24, HEX));
const slackBot = token('xo', 'xb-', randomText(12, 25, DIGITS), '-', randomText(12, 26, DIGITS), '-', randomText(24, 27));
const slackHook = token('hooks.', 'slack.com/services/', 'T', randomText(8, 28, BASE32), '/B', randomText(8, 29, BASE32), '/', randomText(24, 30));
const dotenvPassword = randomText(18, 31);

function gh(prefix: string, seed: number): string {
  return token('gh', prefix, '_', randomText(36, seed));
}

const CASES: Case[] = [
  ...[
    ['RSA', rsa],
    ['OpenSSH', openssh],
    ['EC', ec],
    ['DSA', dsa],
    ['PKCS#8', pkcs8],
    ['encrypted PKCS#8', encrypted],
    ['PGP', pgp],
    ['sigstore/cosign', sigstore],
  ].map(([kind, key]) => {
    const { text, body } = key as { text: string; body: string };
    return { name: `${kind as string} private key`, rule: 'private-key', path: 'root/.ssh/key', content: `\n${text}`, secret: body, line: 2 };
  }),
  {
    name: 'private key flattened onto one line in an env var',
    rule: 'private-key',
    path: 'app/.env',
    content: `TLS_KEY="${rsa.text.replace(/\n/g, ' ')}"\n`,
    secret: rsa.body,
    line: 1,
  },
  {
    name: 'private key with JSON escapes',
    rule: 'private-key',
    path: 'app/key.json',
    content: JSON.stringify({ key: ec.text }),
    secret: ec.body,
    line: 1,
  },
  {
    name: 'legacy encrypted PEM with header lines',
    rule: 'private-key',
    path: 'etc/ssl/private/server.key',
    content: legacyEncrypted.text.replace('KEY-----\n', 'KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00FF\n\n'),
    secret: legacyEncrypted.body,
    line: 1,
  },
  {
    name: 'AWS access key id',
    rule: 'aws-access-key-id',
    path: 'root/.aws/credentials',
    content: `[default]\naws_access_key_id = ${awsId}\naws_secret_access_key = ${awsSecret}\n`,
    secret: awsId,
    line: 2,
  },
  {
    name: 'AWS secret access key',
    rule: 'aws-secret-access-key',
    path: 'root/.aws/credentials',
    content: `[default]\naws_access_key_id = ${awsId}\naws_secret_access_key = ${awsSecret}\n`,
    secret: awsSecret,
    line: 3,
  },
  {
    name: 'AWS secret in STS JSON output',
    rule: 'aws-secret-access-key',
    path: 'tmp/creds.json',
    content: `{\n  "Credentials": {\n    "SecretAccessKey": "${awsSecret}"\n  }\n}\n`,
    secret: awsSecret,
    line: 3,
  },
  {
    name: 'GCP service-account key',
    rule: 'gcp-service-account',
    path: 'app/sa.json',
    content: JSON.stringify({ type: 'service_account', project_id: 'p', private_key: gcpKey.text }, null, 2),
    secret: gcpKey.body,
    line: 4,
  },
  {
    name: 'Azure storage connection string',
    rule: 'azure-storage-key',
    path: 'app/appsettings.json',
    content: `{"Storage": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${azureAccountKey};EndpointSuffix=core.windows.net"}`,
    secret: azureAccountKey,
    line: 1,
  },
  {
    name: 'Azure client secret',
    rule: 'azure-client-secret',
    path: 'app/config.yaml',
    content: `azure:\n  clientSecret: "${azureClientSecret}"\n`,
    secret: azureClientSecret,
    line: 2,
  },
  ...['p', 'o', 'u', 's', 'r'].map((kind, i) => ({
    name: `GitHub gh${kind}_ token`,
    rule: 'github-token',
    path: 'src/deploy.sh',
    content: `#!/bin/sh\nexport GH=${gh(kind, 40 + i)}\n`,
    secret: gh(kind, 40 + i),
    line: 2,
  })),
  {
    name: 'GitHub fine-grained token',
    rule: 'github-fine-grained-token',
    path: 'src/ci.env.txt',
    content: `token ${githubPat}`,
    secret: githubPat,
    line: 1,
  },
  ...[
    token('gl', 'pat-', randomText(20, 50, `${ALNUM}_-`)),
    token('gl', 'dt-', randomText(24, 51)),
    token('gl', 'rt-', randomText(20, 52)),
    token('gl', 'ptt-', randomText(40, 53, HEX)),
    token('GR13', '48941', randomText(20, 54)),
  ].map((secret) => ({
    name: `GitLab ${secret.slice(0, 5)}… token`,
    rule: 'gitlab-token',
    path: 'builds/.gitlab-token',
    content: `${secret}\n`,
    secret,
    line: 1,
  })),
  { name: 'Slack bot token', rule: 'slack-token', path: 'app/slack.py', content: `TOKEN = "${slackBot}"`, secret: slackBot, line: 1 },
  {
    name: 'Slack app token',
    rule: 'slack-token',
    path: 'app/slack.py',
    content: `x = '${token('xa', 'pp-1-', 'A0', randomText(9, 55, BASE32), '-', randomText(13, 56, DIGITS), '-', randomText(64, 57, HEX))}'`,
    secret: token('xa', 'pp-1-', 'A0', randomText(9, 55, BASE32), '-', randomText(13, 56, DIGITS), '-', randomText(64, 57, HEX)),
    line: 1,
  },
  { name: 'Slack webhook', rule: 'slack-webhook', path: 'app/notify.js', content: `fetch("https://${slackHook}")`, secret: slackHook, line: 1 },
  ...['sk_live_', 'rk_test_'].map((prefix, i) => ({
    name: `Stripe ${prefix}`,
    rule: 'stripe-key',
    path: 'app/billing.rb',
    content: `Stripe.api_key = '${prefix}${randomText(24, 60 + i)}'`,
    secret: `${prefix}${randomText(24, 60 + i)}`,
    line: 1,
  })),
  {
    name: 'npm token',
    rule: 'npm-token',
    path: 'home/node/.npmrc',
    content: `//registry.npmjs.org/:_authToken=${token('np', 'm_', randomText(36, 62))}\n`,
    secret: token('np', 'm_', randomText(36, 62)),
    line: 1,
  },
  {
    name: '.npmrc _authToken',
    rule: 'npmrc-auth',
    path: 'home/node/.npmrc',
    content: `registry=https://npm.example.com/\n//npm.example.com/:_authToken=${npmrcToken}\n`,
    secret: npmrcToken,
    line: 2,
  },
  {
    name: 'PyPI token',
    rule: 'pypi-token',
    path: 'root/.pypirc',
    content: `[pypi]\nusername = __token__\npassword = ${token('pypi-', 'AgEIcHlwaS5vcmc', randomText(80, 63))}\n`,
    secret: token('pypi-', 'AgEIcHlwaS5vcmc', randomText(80, 63)),
    line: 3,
  },
  {
    name: 'docker config auth',
    rule: 'docker-config-auth',
    path: 'root/.docker/config.json',
    content: JSON.stringify({ auths: { 'registry.example.com': { auth: registryAuth } } }, null, '\t'),
    secret: registryAuth,
    line: 4,
  },
  {
    name: 'docker identity token',
    rule: 'docker-identity-token',
    path: 'root/.docker/config.json',
    content: JSON.stringify({ auths: { 'r.example.com': { identitytoken: kubeToken } } }),
    secret: kubeToken,
    line: 1,
  },
  {
    name: 'kubeconfig client key',
    rule: 'kubeconfig-client-key',
    path: 'root/.kube/config',
    content: `apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-certificate-data: AAAA\n    client-key-data: ${clientKey}\n`,
    secret: clientKey,
    line: 7,
  },
  {
    name: 'kubeconfig token',
    rule: 'kubeconfig-token',
    path: 'root/.kube/config',
    content: `apiVersion: v1\nclusters: []\nkind: Config\nusers:\n- name: ci\n  user:\n    token: ${kubeToken}\n`,
    secret: kubeToken,
    line: 7,
  },
  {
    name: 'kubeconfig token before the kind: Config line',
    rule: 'kubeconfig-token',
    path: 'etc/kube/admin.conf',
    content: `users:\n- name: ci\n  user:\n    token: ${kubeToken}\n${'# padding\n'.repeat(200_000)}kind: Config\n`,
    secret: kubeToken,
    line: 4,
  },
  {
    name: 'GCP key whose type field comes last',
    rule: 'gcp-service-account',
    path: 'app/sa.json',
    content: JSON.stringify({ private_key: gcpKey.text, client_email: 'x@p.iam.gserviceaccount.com', type: 'service_account' }),
    secret: gcpKey.body,
    line: 1,
  },
  {
    name: '.env secret',
    rule: 'secret-assignment',
    path: 'srv/app/.env',
    content: `# local settings\nDEBUG=true\nDB_PASSWORD="${dotenvPassword}"\n`,
    secret: dotenvPassword,
    line: 3,
  },
  {
    name: 'named .env file with export and comment',
    rule: 'secret-assignment',
    path: 'srv/app/prod.env',
    content: `export API_KEY=${dotenvPassword} # rotated yearly\n`,
    secret: dotenvPassword,
    line: 1,
  },
];

describe('secret rules: each finds its secret', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const result = await scanFiles([{ name: c.path, content: c.content }]);

      expect(result.complete).toBe(true);
      const finding = result.findings.find((f) => f.rule === c.rule);
      expect(finding, JSON.stringify(result.findings)).toBeDefined();
      expect(finding).toMatchObject({ path: c.path, line: c.line });
      expect(finding!.fingerprint).toBe(expectedFingerprint(c.rule, c.secret));
      expect(JSON.stringify(result)).not.toContain(c.secret);
    });
  }
});

const publicKey = pemKey('', 70, 'PUBLIC KEY').text;
const certificate = pemKey('', 71, 'CERTIFICATE').text;

const LOOK_ALIKES: [name: string, path: string, content: string][] = [
  ['public key and certificate blocks', 'etc/ssl/certs/ca.pem', `${publicKey}\n${certificate}`],
  ['a key header with elided body', 'docs/README.md', `${['-----', 'BEGIN RSA PRIVATE KEY', '-----'].join('')}\n...\n`],
  [
    'code that checks for a key header',
    'node_modules/jose/key/import.js',
    `if (pem.indexOf("${['-----', 'BEGIN PRIVATE KEY', '-----'].join('')}") !== 0)\n  throw new TypeError('"pkcs8" must be PKCS#8 formatted string; ${'see the documentation '.repeat(5)}');\n`,
  ],
  [
    'the documented AWS example pair',
    'docs/aws.md',
    `aws_access_key_id = ${token('AKIA', 'IOSFODNN7', 'EXAMPLE')}\naws_secret_access_key = ${token('wJalrXUtnFEMI/K7MDENG/bPxRfiCY', 'EXAMPLEKEY')}\n`,
  ],
  ['a short ghp_ string', 'src/a.js', `const prefix = "${token('gh', 'p_', randomText(20, 72))}";`],
  ['a Stripe key elided in a comment', 'src/pay.js', `// set STRIPE_KEY to ${token('sk', '_test_', '...')} from the dashboard`],
  ['an .env.example with empty values', 'app/.env.example', 'API_KEY=\nDB_PASSWORD=\nSECRET_TOKEN=\n'],
  [
    'an .env with placeholders',
    'app/.env',
    'DB_PASSWORD=changeme\nAPI_TOKEN=${API_TOKEN}\nSECRET_KEY=xxx\nAUTH_SECRET=<your secret>\nTOKEN_URL=https://auth.example.com/token\nMYSQL_ALLOW_EMPTY_PASSWORD=yes\n',
  ],
  [
    'a kubeconfig with only certificates',
    'root/.kube/config',
    `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(certificate).toString('base64')}\n    server: https://k8s.example.com\nusers:\n- name: u\n  user:\n    client-certificate-data: ${Buffer.from(certificate).toString('base64')}\n`,
  ],
  ['token: in code that is not a kubeconfig', 'src/client.ts', `const opts = {\n  token: ${token('ghx', 'Value', randomText(30, 73))}\n};\n`],
  ['npm environment variable names', 'src/build.sh', 'echo $npm_config_cache $npm_package_version_number_string_here_xx\n'],
  ['docker config with a credential helper only', 'root/.docker/config.json', '{"auths": {"r.example.com": {}}, "credsStore": "desktop"}'],
  ['docker auth that is not user:password', 'app/x.json', `{"auth": "${Buffer.from([0, 1, 2, 3, 4, 5]).toString('base64')}"}`],
  ['_auth in JavaScript', 'src/x.js', `this._auth = createAuthenticator(options);\n`],
  ['a 40-char SHA-1 after an AWS key name', 'src/x.yml', `aws_secret_key: ${randomText(40, 74, HEX)}\n`],
];

describe('secret rules: look-alikes are not flagged', () => {
  for (const [name, path, content] of LOOK_ALIKES) {
    it(name, async () => {
      const result = await scanFiles([{ name: path, content }]);

      expect(result.complete).toBe(true);
      expect(result.findings).toEqual([]);
    });
  }
});

describe('secret rules: reporting', () => {
  it('reports a secret repeated in one file once, at its first line', async () => {
    const secret = gh('p', 80);
    const result = await scanFiles([{ name: 'a.txt', content: `${secret}\n${secret}\n` }]);

    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.line).toBe(1);
  });

  it('scans binary files with the same rules', async () => {
    const secret = gh('s', 81);
    const binary = Buffer.concat([Buffer.from([0, 255, 0x7f, 0x80]), Buffer.from(secret), Buffer.alloc(64, 0xfe)]);
    const result = await scanFiles([{ name: 'usr/bin/tool', content: binary }]);

    expect(result.findings.map((f) => f.rule)).toEqual(['github-token']);
  });

  it('leaves a secret-named assignment to the specific rule when one matches the line', async () => {
    const result = await scanFiles([{ name: '.env', content: `GITHUB_TOKEN=${gh('p', 82)}\n` }]);

    expect(result.findings.map((f) => f.rule)).toEqual(['github-token']);
  });
});

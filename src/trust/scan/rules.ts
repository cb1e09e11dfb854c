/**
 * The secret rules, as data. Each content rule names literal keywords that every match
 * contains; the scanner searches only for those (one combined pass) and tries a rule's
 * regex only where a keyword sits, because nearly all layer bytes contain none.
 *
 * Patterns are sticky (`y`) and start at the keyword, or `offset` chars before it, and every
 * quantifier is bounded so no match is longer than {@link MAX_MATCH}: that is the overlap the
 * scanner keeps between blocks so a secret cut by a block boundary is still seen whole.
 *
 * Written from the formats in PROTOCOLS.md §5.2 and the providers' published token shapes.
 *
 * @module
 */

import {
  decodeBase64,
  isPlaceholder,
  isSecretName,
  isUserPassword,
  keyBody,
  looksFake,
  unquote,
} from './values.js';

/** Longest text any content rule reads after its start. */
export const MAX_MATCH = 10_000;
/** Longest look-behind or `offset` any rule uses before its keyword. */
export const MAX_BEFORE = 256;

export type Severity = 'high' | 'low';

/** A rule that finds one kind of secret in file content. */
export interface ContentRule {
  id: string;
  description: string;
  severity: Severity;
  /** Literal strings (case-sensitive) of which every match contains one. */
  keywords: readonly string[];
  /** How many chars before the keyword the match starts (default 0). */
  offset?: number;
  /** Sticky regex tried at `keyword position - offset`; capture 1 is the secret by default. */
  pattern: RegExp;
  /**
   * The secret to fingerprint, or undefined for a look-alike. The default takes capture 1
   * (else the whole match) and drops documentation filler (`looksFake`).
   */
  secret?: (match: RegExpExecArray, text: string) => string | undefined;
  /** Literal strings of which the file must contain one somewhere for a match to count. */
  context?: readonly string[];
}

/** The longest a PEM body is read for its fingerprint; PGP key blocks can be longer. */
const PEM_BODY_MAX = 8192;

function pemSecret(match: RegExpExecArray, text: string): string | undefined {
  const start = match.index + match[0].length;
  const end = text.indexOf('-----END', start);
  const closed = end !== -1 && end - start <= PEM_BODY_MAX;
  const block = text
    .slice(start, closed ? end : start + PEM_BODY_MAX)
    .replace(/\\[nr]/g, '\n')
    .replace(/^[ \t]*[A-Za-z][A-Za-z0-9-]*:[^\n]*$/gm, '');
  // The body must be base64 from the header on: code that merely names the header
  // (`pem.startsWith("-----BEGIN PRIVATE KEY-----")`) continues with other characters.
  const run = /^[\sA-Za-z0-9+/=]*/.exec(block)![0];
  if (closed && run.length !== block.length) return undefined;
  const body = keyBody(run);

  // A header followed by "..." or "<your key>" is documentation, not a key.
  return body.length >= 64 ? body : undefined;
}

function awsSecret(match: RegExpExecArray): string | undefined {
  const value = match[1]!;
  // Real secret access keys are random base64; a hex string of this length is a SHA-1.
  const mixed = /[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value);

  return mixed && !looksFake(value) ? value : undefined;
}

function registryAuth(match: RegExpExecArray): string | undefined {
  const decoded = decodeBase64(match[1]!);
  if (decoded === undefined || !isUserPassword(decoded)) return undefined;

  return isPlaceholder(decoded.slice(decoded.indexOf(':') + 1)) ? undefined : match[1];
}

function kubeClientKey(match: RegExpExecArray): string | undefined {
  const head = decodeBase64(match[1]!.slice(0, 24));

  return head?.startsWith('-----BEGIN') ? match[1] : undefined;
}

function literal(match: RegExpExecArray): string | undefined {
  const value = match[1]!;

  return isPlaceholder(value) || looksFake(value) ? undefined : value;
}

function npmrcToken(match: RegExpExecArray): string | undefined {
  // An `npm_…` value is already reported, with a stable fingerprint, by `npm-token`.
  return /^npm_[A-Za-z0-9]{36}$/.test(match[1]!) ? undefined : literal(match);
}

/** A sticky regex for any of `alternatives`, with the same guards before and after. */
function sticky(before: string, after: string, alternatives: string[]): RegExp {
  return new RegExp(`${before}(?:${alternatives.join('|')})${after}`, 'y');
}

/** Content rules, in the order their findings are reported for one position. */
export const CONTENT_RULES: readonly ContentRule[] = [
  {
    id: 'private-key',
    description: 'Private key block (PEM, OpenSSH, PGP, cosign/sigstore)',
    severity: 'high',
    keywords: ['-----BEGIN'],
    pattern: /-----BEGIN[ A-Z0-9_-]{0,60}PRIVATE KEY(?: BLOCK)?-----/y,
    secret: pemSecret,
  },
  {
    // The id alone grants nothing but names the key to revoke; it is its own low rule
    // because the matching secret is often elsewhere (an env var, another file).
    id: 'aws-access-key-id',
    description: 'AWS access key id (identifies a key; the secret may be elsewhere)',
    severity: 'low',
    keywords: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'A3T'],
    pattern: /(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/y,
    secret: (m) => (m[0].endsWith('EXAMPLE') ? undefined : m[0]),
  },
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key assigned to an AWS key name',
    severity: 'high',
    keywords: ['aws', 'AWS', 'Aws', 'SecretAccessKey', 'secretAccessKey'],
    // A key name (`aws_secret_access_key`, `AWS_SECRET_KEY`, `SecretAccessKey`), an optional
    // quote, `:`, `=` or `=>`, then 40 base64 chars.
    pattern: new RegExp(
      '(?:aws_?(?:sec(?:ret)?)?_?(?:access)?_?key|secret_?access_?key)' +
        `["']?[ \\t]*(?::|=>?)[ \\t]*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
      'iy',
    ),
    secret: awsSecret,
  },
  {
    id: 'gcp-service-account',
    description: 'Google Cloud service-account key file',
    severity: 'high',
    keywords: ['"private_key"'],
    pattern: /"private_key"\s*:\s*"(-----BEGIN[^"]{64,9000})"/y,
    secret: (m) => keyBody(m[1]!),
    context: ['"service_account"'],
  },
  {
    id: 'azure-storage-key',
    description: 'Azure storage account or Service Bus key in a connection string',
    severity: 'high',
    keywords: ['AccountKey=', 'SharedAccessKey='],
    pattern: /(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/y,
  },
  {
    id: 'azure-client-secret',
    description: 'Azure AD (Entra ID) application client secret',
    severity: 'high',
    keywords: ['Q~'],
    offset: 4,
    pattern: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/y,
    secret: (m) => (looksFake(m[0]) ? undefined : m[0]),
  },
  {
    id: 'github-token',
    description: 'GitHub token (personal, OAuth, app user, installation or refresh)',
    severity: 'high',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,76}(?![A-Za-z0-9])/y,
  },
  {
    id: 'github-fine-grained-token',
    description: 'GitHub fine-grained personal access token',
    severity: 'high',
    keywords: ['github_pat_'],
    pattern: /github_pat_[A-Za-z0-9_]{82}(?![A-Za-z0-9_])/y,
  },
  {
    id: 'gitlab-token',
    description: 'GitLab token (personal, deploy, runner, trigger or runner registration)',
    severity: 'high',
    keywords: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'GR1348941'],
    pattern: sticky('(?<![A-Za-z0-9_-])', '(?![A-Za-z0-9_-])', [
      // Routable tokens end in `.` + a 2-char version + 7-char CRC.
      'glpat-[A-Za-z0-9_-]{20,300}(?:\\.[0-9a-z]{9})?',
      'gldt-[A-Za-z0-9_-]{20,300}',
      'glrt-[A-Za-z0-9_-]{20,300}(?:\\.[0-9a-z]{9})?',
      'glptt-[0-9a-f]{40}',
      'GR1348941[A-Za-z0-9_-]{20,300}',
    ]),
  },
  {
    id: 'slack-token',
    description: 'Slack bot, user, app or configuration token',
    severity: 'high',
    keywords: ['xox', 'xapp-'],
    pattern: sticky('(?<![A-Za-z0-9])', '(?![A-Za-z0-9-])', [
      'xox[bpeoasr]-[0-9]{6,14}-[A-Za-z0-9-]{10,200}',
      // Configuration tokens, and their refresh form `xoxe-…`.
      'xoxe(?:\\.xox[bp])?-[0-9]-[A-Za-z0-9]{140,200}',
      'xapp-[0-9]-[A-Za-z0-9]{6,20}-[0-9]{6,20}-[A-Za-z0-9]{32,100}',
    ]),
  },
  {
    id: 'slack-webhook',
    description: 'Slack incoming webhook or workflow URL',
    severity: 'high',
    keywords: ['hooks.slack.com/'],
    pattern: /hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/]{43,56}(?![A-Za-z0-9+/])/y,
  },
  {
    id: 'stripe-key',
    description: 'Stripe secret or restricted API key',
    severity: 'high',
    keywords: ['sk_live_', 'sk_test_', 'sk_prod_', 'rk_live_', 'rk_test_', 'rk_prod_'],
    pattern: /(?<![A-Za-z0-9_])[sr]k_(?:live|test|prod)_[A-Za-z0-9]{10,99}(?![A-Za-z0-9])/y,
  },
  {
    id: 'npm-token',
    description: 'npm access token',
    severity: 'high',
    keywords: ['npm_'],
    pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/y,
  },
  {
    id: 'npmrc-auth',
    description: 'Registry credential in an .npmrc (_authToken or _auth)',
    severity: 'high',
    keywords: ['_auth'],
    pattern: /(?<=(?:^|\n)[ \t]*(?:\/\/[^\s=]{0,200}:)?)_auth(?:Token)?[ \t]*=[ \t]*["']?([^\s"'#;]{8,1024})/y,
    secret: npmrcToken,
  },
  {
    id: 'pypi-token',
    description: 'PyPI upload token',
    severity: 'high',
    keywords: ['pypi-AgEIcHlwaS5vcmc'],
    pattern: /pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}(?![A-Za-z0-9_-])/y,
  },
  {
    id: 'docker-config-auth',
    description: 'Registry user:password in a Docker/Podman auth file',
    severity: 'high',
    keywords: ['"auth"'],
    pattern: /"auth"\s*:\s*"([A-Za-z0-9+/]{4,4000}={0,2})"/y,
    secret: registryAuth,
  },
  {
    id: 'docker-identity-token',
    description: 'Registry identity (refresh) token in a Docker auth file',
    severity: 'high',
    keywords: ['"identitytoken"'],
    pattern: /"identitytoken"\s*:\s*"([^"\s]{8,4000})"/y,
    secret: literal,
  },
  {
    id: 'kubeconfig-client-key',
    description: 'Client private key embedded in a kubeconfig',
    severity: 'high',
    keywords: ['client-key-data'],
    pattern: /client-key-data"?[ \t]*:[ \t]*"?([A-Za-z0-9+/]{24,9000}={0,2})/y,
    secret: kubeClientKey,
  },
  {
    id: 'kubeconfig-token',
    description: 'Bearer token of a kubeconfig user',
    severity: 'high',
    keywords: ['token:'],
    pattern: /(?<=(?:^|\n)[ \t]+)token:[ \t]*["']?([A-Za-z0-9._~+/=:-]{16,4096})/y,
    secret: literal,
    context: ['kind: Config'],
  },
];

/** Basenames that are examples of an env file by convention, not one in use. */
const ENV_EXAMPLE = /\.(?:example|sample|template|tmpl|tpl|dist|defaults?)$/i;

/** Whether a layer path is a dotenv file (`.env`, `prod.env`, `.env.local`). */
export function isEnvFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base === '.env' || (base.endsWith('.env') && base.length > 4)) return true;

  return base.startsWith('.env.') && !ENV_EXAMPLE.test(base);
}

/** A `KEY=VALUE` whose key says it holds a secret and whose value is not a stand-in. */
export const ASSIGNMENT_RULE = {
  id: 'secret-assignment',
  description: 'Secret-named variable set to a literal value (.env file, image ENV/ARG/label)',
  severity: 'high' as Severity,
  /** One dotenv line: optional `export`, the key, `=`, the raw value. */
  line: /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*(.*?)[ \t]*\r?$/gm,
};

/** The value a dotenv line assigns: quotes removed, or an unquoted trailing ` # comment` cut. */
export function envValue(raw: string): string {
  if (raw.startsWith('"') || raw.startsWith("'")) {
    const close = raw.indexOf(raw[0]!, 1);
    return close === -1 ? raw.slice(1) : raw.slice(1, close);
  }
  const comment = raw.search(/[ \t]#/);

  return comment === -1 ? raw : raw.slice(0, comment).trimEnd();
}

/** Whether `key=value` should be reported by {@link ASSIGNMENT_RULE}. */
export function isSecretAssignment(key: string, value: string): boolean {
  return isSecretName(key) && !isPlaceholder(unquote(value));
}

/** Severity of a rule id, for callers ranking findings. */
export function severityOf(ruleId: string): Severity | undefined {
  if (ruleId === ASSIGNMENT_RULE.id) return ASSIGNMENT_RULE.severity;

  return CONTENT_RULES.find((rule) => rule.id === ruleId)?.severity;
}

import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './schema.js';

/** Environment variables that override configuration keys, and how each value is read. */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; key: string; type: 'string' | 'number' | 'list' | 'boolean' }> = [
  { env: 'PORTCULLIS_LISTEN', key: 'listen', type: 'string' },
  { env: 'PORTCULLIS_DATA_DIR', key: 'dataDir', type: 'string' },
  { env: 'PORTCULLIS_DATABASE', key: 'database', type: 'string' },
  { env: 'PORTCULLIS_BLOBS_PATH', key: 'blobs.path', type: 'string' },
  { env: 'PORTCULLIS_AUTH_SERVICE', key: 'auth.service', type: 'string' },
  { env: 'PORTCULLIS_AUTH_ISSUER', key: 'auth.issuer', type: 'string' },
  { env: 'PORTCULLIS_AUTH_REALM', key: 'auth.realm', type: 'string' },
  { env: 'PORTCULLIS_AUTH_TOKEN_TTL', key: 'auth.tokenTtl', type: 'number' },
  { env: 'PORTCULLIS_AUTH_THROTTLE_ACCOUNT_FAILURES', key: 'auth.throttle.accountFailures', type: 'number' },
  { env: 'PORTCULLIS_AUTH_THROTTLE_ADDRESS_FAILURES', key: 'auth.throttle.addressFailures', type: 'number' },
  { env: 'PORTCULLIS_TLS_CERT', key: 'tls.cert', type: 'string' },
  { env: 'PORTCULLIS_TLS_KEY', key: 'tls.key', type: 'string' },
  { env: 'PORTCULLIS_TRUSTED_PROXIES', key: 'trustedProxies', type: 'list' },
  { env: 'PORTCULLIS_TRUSTED_PROXY_HEADER', key: 'trustedProxyHeader', type: 'string' },
  { env: 'PORTCULLIS_UPLOADS_EXPIRE_AFTER', key: 'uploads.expireAfter', type: 'number' },
  { env: 'PORTCULLIS_LOG_LEVEL', key: 'log.level', type: 'string' },
  { env: 'PORTCULLIS_METRICS_ENABLED', key: 'metrics.enabled', type: 'boolean' },
];

/** A configuration problem, with every offending key named; raised before the server listens. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values given on the command line; they win over the file and the environment. */
  overrides?: Record<string, string | undefined>;
}

/** Reads the YAML file (if any), applies `PORTCULLIS_*` variables and flags, and validates. */
export function loadConfig(options: LoadOptions = {}): Config {
  const raw = options.file ? readYaml(options.file) : {};
  if (options.file) anchorFilePaths(raw, options.file);
  const problems: string[] = [];
  const env = options.env ?? process.env;

  const fromEnv = new Map<string, string>();
  for (const { env: name, key, type } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const converted = convert(value, type);
    if (converted === undefined) problems.push(`${name}: expected a ${type}, got "${value}"`);
    else {
      setPath(raw, key, converted);
      fromEnv.set(key, name);
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) {
      setPath(raw, key, value);
      fromEnv.delete(key);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const source = fromEnv.has(key) ? ` (from ${fromEnv.get(key)})` : '';

        return `${key || '(root)'}${source}: ${issue.message}`;
      }),
    );
  }

  const insecure = insecureListen(result.data);
  if (insecure) throw new ConfigError([insecure]);
  const config = resolvePaths(result.data);
  const unreadable = unreadableFiles(config);
  if (unreadable.length > 0) throw new ConfigError(unreadable);

  return config;
}

/** The TLS and key files must be readable now, not when the first connection arrives. */
function unreadableFiles(config: Config): string[] {
  const files: Array<readonly [string, string]> = config.tls ? [['tls.cert', config.tls.cert], ['tls.key', config.tls.key]] : [];
  config.federation.issuers.forEach((issuer, index) => {
    if (issuer.jwksFile) files.push([`federation.issuers.${index}.jwksFile`, issuer.jwksFile]);
  });
  const problems: string[] = [];
  for (const [key, file] of files) {
    try {
      accessSync(file, fsConstants.R_OK);
    } catch (err) {
      problems.push(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  return problems;
}

/** Plain HTTP is allowed on loopback, or behind a declared trusted proxy that terminates TLS. */
function insecureListen(config: Config): string | undefined {
  const host = config.listen.slice(0, config.listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (loopback || config.tls || config.trustedProxies.length > 0) return undefined;

  return (
    `listen: refusing plain HTTP on ${config.listen}: configure tls.cert and tls.key, ` +
    'or declare the TLS-terminating proxy in trustedProxies, or listen on a loopback address'
  );
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0]!.replace(/:\s*$/, '');
    throw new ConfigError([`${file}: not valid YAML: ${first}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`${file}: the top level must be a mapping`]);
  }

  return parsed as Record<string, unknown>;
}

function convert(value: string, type: 'string' | 'number' | 'list' | 'boolean'): unknown {
  if (type === 'string') return value;
  if (type === 'list') return value.split(',').map((v) => v.trim()).filter(Boolean);
  if (type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;

    return undefined;
  }
  const n = Number(value);

  return Number.isFinite(n) ? n : undefined;
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/**
 * Makes the relative paths written in the file relative to the file itself, before the values
 * from the environment, the command line and the defaults join in.
 */
function anchorFilePaths(raw: Record<string, unknown>, file: string): void {
  const base = path.dirname(path.resolve(file));
  const anchor = (node: unknown, key: string) => {
    const holder = node as Record<string, unknown> | null;
    if (holder && typeof holder === 'object' && typeof holder[key] === 'string') holder[key] = path.resolve(base, holder[key] as string);
  };
  anchor(raw, 'dataDir');
  anchor(raw.blobs, 'path');
  anchor(raw.tls, 'cert');
  anchor(raw.tls, 'key');
  const issuers = (raw.federation as { issuers?: unknown } | undefined)?.issuers;
  if (Array.isArray(issuers)) for (const issuer of issuers) anchor(issuer, 'jwksFile');
  const exports = (raw.audit as { export?: unknown } | undefined)?.export;
  if (Array.isArray(exports)) for (const target of exports) anchor(target, 'path');
  const policies = (raw.trust as { policies?: unknown } | undefined)?.policies;
  if (Array.isArray(policies)) for (const policy of policies) anchor(policy, 'file');
}

/**
 * Every remaining relative path (from a variable, a flag or a default such as `./data`) is
 * relative to the working directory, wherever the file lives.
 */
function resolvePaths(config: Config): Config {
  const abs = (p: string) => path.resolve(p);
  const dataDir = abs(config.dataDir);

  return {
    ...config,
    dataDir,
    blobs: { ...config.blobs, path: config.blobs.path ? abs(config.blobs.path) : dataDir },
    tls: config.tls ? { cert: abs(config.tls.cert), key: abs(config.tls.key) } : undefined,
    federation: {
      ...config.federation,
      issuers: config.federation.issuers.map((i) => (i.jwksFile ? { ...i, jwksFile: abs(i.jwksFile) } : i)),
    },
    audit: { ...config.audit, export: config.audit.export.map((e) => (e.kind === 'file' ? { ...e, path: abs(e.path) } : e)) },
    trust: { ...config.trust, policies: config.trust.policies.map((p) => ({ ...p, file: abs(p.file) })) },
  };
}

import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { duration } from '../../src/admin/index.js';
import { pruneAudit } from '../../src/audit/retention.js';
import { verifyChain } from '../../src/audit/verify.js';
import { KeyRing, payloadSigner } from '../../src/identity/keys.js';
import { TOKEN_LEEWAY_SECONDS } from '../../src/identity/tokens.js';
import type { AuditFilter, AuditRow } from '../../src/storage/metadata/index.js';
import { configFrom, print, UsageError, withStore, withStoreOptions, type StoreOptions } from '../context.js';

const PULLS = ['manifest.pull', 'blob.pull'];

type QueryOptions = StoreOptions & {
  digest?: string;
  credential?: string;
  principal?: string;
  repository?: string;
  address?: string;
  action?: string[];
  outcome?: string;
  since?: string;
  until?: string;
  after: string;
  limit: string;
  json?: boolean;
};

/** The key ids of a JWKS file. */
async function trustedKeys(file: string): Promise<Set<string>> {
  try {
    const jwks = JSON.parse(await readFile(file, 'utf8')) as { keys?: Array<{ kid?: unknown }> };
    return new Set((jwks.keys ?? []).map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string'));
  } catch {
    throw new UsageError(`--keys: ${file} is not a readable JWKS file`);
  }
}

/** An ISO 8601 time, or a duration back from now such as `24h` or `7d`. */
function time(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+[smhd]$/.test(text)) return Date.now() - duration(text, flag);
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`${flag} must be an ISO 8601 time or a duration such as 24h`);

  return at;
}

function withFilters(command: Command): Command {
  return withStoreOptions(command)
    .option('--digest <digest>', 'content digest')
    .option('--credential <name>', 'the credential: a user, robot+NAME or rule+NAME')
    .option('--principal <id>', 'the principal id (user:…, robot:…, rule:…)')
    .option('--repository <name>', 'repository name')
    .option('--address <ip>', 'client address')
    .option('--since <time>', 'ISO 8601 time, or a duration back from now (24h, 7d)')
    .option('--until <time>', 'ISO 8601 time, or a duration back from now')
    .option('--after <seq>', 'page: only events after this sequence number', '0')
    .option('--limit <n>', 'at most this many events', '100')
    .option('--json', 'one JSON object per line');
}

function filterOf(options: QueryOptions, actions?: string[]): AuditFilter {
  return {
    digest: options.digest,
    credential: options.credential,
    principal: options.principal,
    repository: options.repository,
    address: options.address,
    outcome: options.outcome,
    actions: actions ?? options.action,
    since: time(options.since, '--since'),
    until: time(options.until, '--until'),
  };
}

async function list(options: QueryOptions, actions?: string[]): Promise<void> {
  const after = Number(options.after);
  const limit = Number(options.limit);
  if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
    throw new UsageError('--after must be a sequence number and --limit 1-10000');
  }
  const rows = await withStore(options, (store) => store.audit.query(filterOf(options, actions), after, limit));
  for (const row of rows) print(options.json ? JSON.stringify(publicRow(row)) : line(row));
  if (!options.json && rows.length === limit) print(`(more: --after ${rows.at(-1)!.seq})`);
}

function publicRow(row: AuditRow) {
  const { prevHash: _p, hash: _h, federated, ...rest } = row;

  return { ...rest, at: new Date(row.at).toISOString(), federated: federated === null ? null : (JSON.parse(federated) as unknown) };
}

function line(row: AuditRow): string {
  const cells = [row.seq, new Date(row.at).toISOString(), row.action, row.outcome, row.credential, row.address, row.repository, row.reference, row.digest, row.bytes, row.reason];

  return cells.map((c) => (c === null || c === undefined ? '-' : String(c))).join('\t');
}

/** `portcullis audit verify|events|pulls`. */
export function auditCommand(): Command {
  const audit = new Command('audit').description('the tamper-evident audit log');

  withStoreOptions(audit.command('verify'))
    .description('walk the hash chain and report the first edited, deleted or reordered event, or that all is intact')
    .option('--keys <file>', 'a JWKS kept outside the store (saved copies of /token/jwks): checkpoints must be signed by one of its keys')
    .action(async (options: StoreOptions & { keys?: string }) => {
      const trusted = options.keys === undefined ? undefined : await trustedKeys(options.keys);
      const report = await withStore(options, (store) => verifyChain(store, trusted));
      if (report.intact) {
        print(`audit chain intact: ${report.events} events, head ${report.head}`);
        return;
      }
      const before = `${report.events} event${report.events === 1 ? '' : 's'} verified before it`;
      print(`audit chain broken at event ${report.seq}: ${report.problem} (${before})`);
      process.exitCode = 2;
    });

  withStoreOptions(audit.command('prune'))
    .description('delete events older than the given age, leaving a signed summary so the chain still verifies')
    .requiredOption('--older-than <age>', 'e.g. 365d')
    .action(async (options: StoreOptions & { olderThan: string }) => {
      const before = Date.now() - duration(options.olderThan, '--older-than');
      const config = configFrom(options);
      const summary = await withStore(options, (store) =>
        pruneAudit(store, before, payloadSigner(new KeyRing(store, (config.auth.tokenTtl + TOKEN_LEEWAY_SECONDS) * 1000))),
      );
      print(summary ? `pruned events ${summary.firstSeq}–${summary.lastSeq} (${summary.events}); the chain goes on from ${summary.lastHash}` : 'no events are that old');
    });

  withFilters(audit.command('events'))
    .description('list events: seq, time, action, outcome, credential, address, repository, reference, digest, bytes, reason')
    .option('--action <action>', 'an action such as manifest.push or auth.token (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--outcome <outcome>', 'allowed, denied or failed')
    .action((options: QueryOptions) => list(options));

  withFilters(audit.command('pulls'))
    .description('what was pulled (manifest and blob GETs): by digest, credential, repository, address, time')
    .action((options: QueryOptions) => list({ ...options, outcome: 'allowed' }, PULLS));

  return audit;
}

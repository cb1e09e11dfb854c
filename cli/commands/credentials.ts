import { Command } from 'commander';
import { print, UsageError, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

type ReportOptions = StoreOptions & { unusedDays: string; maxFindings?: string; json?: boolean };

const day = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().slice(0, 10));

/** `portcullis credentials report`. */
export function credentialsCommand(): Command {
  const credentials = new Command('credentials').description('credential hygiene');

  withStoreOptions(credentials.command('report'))
    .description('every credential with owner, age, expiry, last use, reach and findings; exit 3 past --max-findings')
    .option('--unused-days <n>', 'flag credentials unused for longer than this', '30')
    .option('--max-findings <n>', 'exit with status 3 when there are more findings than this (for CI)')
    .option('--json', 'one JSON object per credential and line')
    .action(async (options: ReportOptions) => {
      const unusedDays = Number(options.unusedDays);
      const max = options.maxFindings === undefined ? Infinity : Number(options.maxFindings);
      if (!Number.isInteger(unusedDays) || unusedDays < 1 || !(max === Infinity || (Number.isInteger(max) && max >= 0))) {
        throw new UsageError('--unused-days must be a whole number of days and --max-findings a number of findings');
      }
      const entries = await withAdmin(options, (admin) => admin.hygiene.report(unusedDays));
      const findings = entries.reduce((n, e) => n + e.findings.length, 0);
      if (options.json) {
        for (const e of entries) print(JSON.stringify({ ...e, createdAt: day(e.createdAt), expiresAt: day(e.expiresAt), lastUsedAt: day(e.lastUsedAt) }));
      } else {
        print(['credential', 'kind', 'owner', 'created', 'expires', 'last used', 'namespaces', 'roles', 'environments', 'findings'].join('\t'));
        for (const e of entries) {
          const cells = [e.credential, e.kind, e.owner, day(e.createdAt), day(e.expiresAt), day(e.lastUsedAt), e.namespaces.join(',') || '-', e.roles.join(',') || '-', e.environments.join(',') || '-', e.findings.join('; ') || '-'];
          print(cells.join('\t'));
        }
        print('anonymous access: none (Portcullis serves no anonymous requests)');
        print(`${entries.length} credentials, ${findings} findings`);
      }
      if (findings > max) process.exitCode = 3;
    });

  return credentials;
}

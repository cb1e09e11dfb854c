import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { duration } from '../../src/admin/index.js';
import { print, UsageError, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

/** An ISO 8601 time, or a duration back from now such as `24h` or `7d`. */
function since(text: string): number {
  if (/^\d+[smhd]$/.test(text)) return Date.now() - duration(text, '--since');
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError('--since must be an ISO 8601 time or a duration such as 7d');

  return at;
}

const cell = (value: unknown) => (value === null || value === undefined ? '-' : String(value));

/** `portcullis incident credential NAME` and `portcullis incident digest D`. */
export function incidentCommand(): Command {
  const incident = new Command('incident').description('incident response: cut a credential off and see what it took; who pulled a digest');

  withStoreOptions(incident.command('credential <name>'))
    .description('disable a user, robot+NAME or rule+NAME, revoke its tokens, and report what it pulled and pushed')
    .option('--since <time>', 'how far back to report (ISO 8601, or 24h, 7d)', '30d')
    .option('--report <file>', 'where to write the JSON report (default: ./incident-NAME-TIME.json)')
    .action(async (name: string, options: StoreOptions & { since: string; report?: string }) => {
      const from = since(options.since);
      const report = await withAdmin(options, (admin) => admin.incident.credential(name, from, `cli:${userInfo().username}`));
      const file = path.resolve(options.report ?? `incident-${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      await writeFile(file, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
      for (const action of report.actions) print(action);
      print(`\nwhat ${name} did since ${report.since} (${report.activity.length} events):`);
      print(['time', 'action', 'repository', 'reference', 'digest', 'address', 'bytes'].join('\t'));
      for (const a of report.activity) print([a.at, a.action, a.repository, a.reference, a.digest, a.address, a.bytes].map(cell).join('\t'));
      print(`\naddresses: ${report.addresses.join(', ') || '-'}`);
      print('other credentials seen from these addresses:');
      for (const o of report.alsoFromTheseAddresses) print(`${o.credential}\t${o.address}\t${o.events} events`);
      if (report.alsoFromTheseAddresses.length === 0) print('-');
      print(`\nreport written to ${file}`);
    });

  withStoreOptions(incident.command('digest <digest>'))
    .description('every identity that pulled the digest: when, from where')
    .option('--since <time>', 'only pulls after this time (ISO 8601, or 24h, 7d)')
    .option('--json', 'one JSON object per line')
    .action(async (digest: string, options: StoreOptions & { since?: string; json?: boolean }) => {
      const from = options.since === undefined ? undefined : since(options.since);
      const pulls = await withAdmin(options, (admin) => admin.incident.digest(digest, from));
      for (const p of pulls) print(options.json ? JSON.stringify(p) : [p.at, p.credential, p.address, p.repository, p.action, p.bytes].map(cell).join('\t'));
      if (!options.json && pulls.length === 0) print(`no recorded pulls of ${digest}`);
    });

  return incident;
}

import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { TrustPolicy } from '../../src/trust/policy/document.js';
import { configFrom, print, UsageError, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

type Json = StoreOptions & { json?: boolean };
const cell = (value: unknown) => (value === null || value === undefined ? '-' : String(value));
const when = (ms: number) => new Date(ms).toISOString();
const actor = () => `cli:${userInfo().username}`;
/** Exit status when the answer is "refused" (as for `explain` and `credentials report`). */
const REFUSED_EXIT = 3;

/** `portcullis trust set|show|remove|check`: namespace trust policies and a manifest's verdict. */
export function trustCommand(): Command {
  const trust = new Command('trust').description('trust policies: signatures, attestations, tag rules and secret scanning per namespace');

  withStoreOptions(trust.command('set <namespace>'))
    .description('set the namespace trust policy from a YAML or JSON file (key, certificate and root files resolve next to it)')
    .requiredOption('--file <policy>', 'the policy document')
    .action(async (namespace: string, options: StoreOptions & { file: string }) => {
      const file = path.resolve(options.file);
      let document: unknown;
      try {
        document = parseYaml(await readFile(file, 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
      }
      const result = await withAdmin(options, (admin) => admin.trust.setPolicy(namespace, document, actor(), path.dirname(file)));
      print(`namespace ${namespace}: trust policy version ${result.version}`);
    });

  withStoreOptions(trust.command('show [namespace]'))
    .description('show one namespace policy (as JSON), or list every namespace with a policy')
    .action(async (namespace: string | undefined, options: StoreOptions) => {
      if (namespace) {
        const found = await withAdmin(options, (admin) => admin.trust.policy(namespace));
        print(JSON.stringify({ ...found, updatedAt: when(found.updatedAt) }, null, 2));
        return;
      }
      const policies = await withAdmin(options, (admin) => admin.trust.policies());
      const registryScan = configFrom(options).trust.secretScan.mode;
      print(['namespace', 'version', 'source', 'mode', 'signers', 'secrets', 'immutable', 'staged', 'updated'].join('\t'));
      for (const p of policies) print(policyRow(p, registryScan));
    });

  withStoreOptions(trust.command('remove <namespace>'))
    .description('remove the namespace trust policy')
    .action(async (namespace: string, options: StoreOptions) => {
      await withAdmin(options, (admin) => admin.trust.removePolicy(namespace));
      print(`namespace ${namespace}: trust policy removed`);
    });

  withStoreOptions(trust.command('check <repository> <reference>'))
    .description('what a pull of a manifest (tag or digest) would get now, and why; exits 3 when it would be refused')
    .option('--json', 'print the verdict as JSON')
    .action(async (repository: string, reference: string, options: Json) => {
      const verdict = await withAdmin(options, (admin) => admin.trust.check(repository, reference));
      if (options.json) print(JSON.stringify(verdict, null, 2));
      else {
        print(`${verdict.allowed ? 'allowed' : 'refused'}: ${repository}@${verdict.digest} (namespace ${verdict.namespace ?? '-'})`);
        if (verdict.refusal) print(`why: ${verdict.refusal}`);
        for (const note of verdict.notes) print(`note: ${note}`);
        for (const s of verdict.satisfied) print(`ok: ${s}`);
        for (const r of verdict.reasons) print(`missing: ${r}`);
      }
      if (!verdict.allowed) process.exitCode = REFUSED_EXIT;
    });

  return trust;
}

/**
 * One line of `trust show`. The mode only governs signature and attestation checks, so it is
 * shown only where the policy asks for them; a policy that leaves `secrets` out follows the
 * registry-wide scan mode, which is named as such.
 */
function policyRow(p: { namespace: string; version: number; source: string; updatedAt: number; policy: unknown }, registryScan: string): string {
  // Read defensively: a policy stored by an older version may lack fields added since.
  const doc = p.policy as Partial<TrustPolicy>;
  const checksSignatures = doc.requireSignature === true || (doc.attestations ?? []).length > 0;

  return [
    p.namespace,
    p.version,
    p.source,
    checksSignatures ? doc.mode : '-',
    (doc.signers ?? []).map((s) => s.name).join(',') || '-',
    doc.secrets ?? `${registryScan} (registry-wide)`,
    (doc.immutableTags ?? []).join(',') || '-',
    doc.stagedDelivery ? 'yes' : 'no',
    when(p.updatedAt),
  ]
    .map(cell)
    .join('\t');
}

/** `portcullis quarantine add|release|list`. */
export function quarantineCommand(): Command {
  const quarantine = new Command('quarantine').description('digests that may not be pulled');

  withStoreOptions(quarantine.command('add <digest>'))
    .description('refuse every pull of the digest (manifest or blob), in every repository')
    .requiredOption('--reason <text>', 'why; pullers see it')
    .action(async (digest: string, options: StoreOptions & { reason: string }) => {
      await withAdmin(options, (admin) => admin.trust.quarantine(digest, options.reason, actor()));
      print(`${digest}: quarantined`);
    });

  withStoreOptions(quarantine.command('release <digest>'))
    .description('let the digest be pulled again (recorded in the audit log)')
    .action(async (digest: string, options: StoreOptions) => {
      const released = await withAdmin(options, (admin) => admin.trust.release(digest));
      print(`${digest}: released (was quarantined by ${released.actor}: ${released.reason})`);
    });

  withStoreOptions(quarantine.command('list'))
    .description('every quarantined digest')
    .option('--json', 'one JSON object per line')
    .action(async (options: Json) => {
      const list = await withAdmin(options, (admin) => admin.trust.quarantined());
      for (const q of list) print(options.json ? JSON.stringify({ ...q, at: when(q.at) }) : [q.digest, q.kind, when(q.at), q.actor, q.reason].join('\t'));
      if (!options.json && list.length === 0) print('nothing is quarantined');
    });

  return quarantine;
}

/** `portcullis tag history|override`. */
export function tagCommand(): Command {
  const tag = new Command('tag').description('tag history, and moving a tag against the tag rules');

  withStoreOptions(tag.command('history <repository> [tag]'))
    .description('every move of the tag (or of every tag in the repository), oldest first')
    .option('--json', 'one JSON object per line')
    .action(async (repository: string, name: string | undefined, options: Json) => {
      const moves = await withAdmin(options, (admin) => admin.trust.tagHistory(repository, name));
      if (options.json) {
        for (const m of moves) print(JSON.stringify({ ...m, at: when(m.at) }));
        return;
      }
      if (moves.length === 0) {
        print('no tag moves recorded');
        return;
      }
      print(['time', 'tag', 'from', 'to', 'by', 'note'].join('\t'));
      for (const m of moves) print([when(m.at), m.tag, m.previous, m.digest, m.actor, m.note].map(cell).join('\t'));
    });

  withStoreOptions(tag.command('override <repository> <tag> <digest>'))
    .description('point the tag at a manifest even where immutable-tag or rollback rules refuse it (recorded with the reason)')
    .requiredOption('--reason <text>', 'why the rules are overridden')
    .action(async (repository: string, name: string, digest: string, options: StoreOptions & { reason: string }) => {
      const result = await withAdmin(options, (admin) => admin.trust.overrideTag(repository, name, digest, options.reason, actor()));
      print(`${repository}:${name} -> ${result.digest}${result.overrode ? ` (overrode: ${result.overrode})` : ''}`);
    });

  return tag;
}

/** `portcullis scan findings|exposure`. */
export function scanCommand(): Command {
  const scan = new Command('scan').description('secret-scan findings of pushed layers, and who pulled them');

  withStoreOptions(scan.command('findings [digest]'))
    .description('blobs in which secrets were found (rule, path, fingerprint; never the secret)')
    .option('--json', 'one JSON object per line')
    .action(async (digest: string | undefined, options: Json) => {
      const blobs = await withAdmin(options, (admin) => admin.trust.findings(digest));
      for (const b of blobs) {
        if (options.json) {
          print(JSON.stringify({ ...b, scannedAt: when(b.scannedAt) }));
          continue;
        }
        if (!b.complete) print([b.digest, '-', 'scan-incomplete', '-', b.problem].map(cell).join('\t'));
        for (const f of b.findings) print([b.digest, f.line === undefined ? f.path : `${f.path}:${f.line}`, f.rule, f.fingerprint, f.description].map(cell).join('\t'));
      }
      if (!options.json && blobs.length === 0) print('no findings');
    });

  withStoreOptions(scan.command('exposure [digest]'))
    .description('for each blob with findings: the images holding it and every recorded pull of them')
    .option('--json', 'the whole report as JSON')
    .action(async (digest: string | undefined, options: Json) => {
      const report = await withAdmin(options, (admin) => admin.trust.exposure(digest));
      if (options.json) {
        print(JSON.stringify(report, null, 2));
        return;
      }
      for (const b of report) {
        print(`${b.digest} (${b.rules.join(', ') || 'scan incomplete'}): in ${b.images.length} image(s), ${b.pulls.length} pull(s)`);
        for (const i of b.images) print(`  image\t${i.repository}@${i.digest}`);
        for (const p of b.pulls) print(`  pull\t${[p.at, p.credential, p.address, p.repository, p.digest].map(cell).join('\t')}`);
      }
      if (report.length === 0) print('no findings');
    });

  return scan;
}

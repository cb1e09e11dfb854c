import { Command } from 'commander';
import { EXPLAIN_ACTIONS } from '../../src/admin/index.js';
import { print, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

type ExplainOptions = StoreOptions & { action: string; address?: string; json?: boolean };

/** Exit status of a denial: the command worked and the answer is no, as with `credentials report --max-findings`. */
const DENIED_EXIT = 3;

/** `portcullis explain SUBJECT REPOSITORY`: the decision chain, one stage per line. */
export function explainCommand(): Command {
  return withStoreOptions(new Command('explain'))
    .argument('<subject>', 'a user or person by name, robot+NAME, rule+NAME or group:NAME')
    .argument('<repository>', 'e.g. team/app')
    .description(`why SUBJECT would be allowed or denied an action on REPOSITORY; exit ${DENIED_EXIT} when denied`)
    .option('--action <action>', EXPLAIN_ACTIONS.join('|'), 'pull')
    .option('--address <ip>', 'the client address to check address rules against')
    .option('--json', 'the explanation as one JSON object')
    .action(async (subject: string, repository: string, options: ExplainOptions) => {
      const explanation = await withAdmin(options, (admin) => admin.explain.explain({ subject, repository, action: options.action, address: options.address }));
      if (options.json) {
        print(JSON.stringify(explanation));
      } else {
        for (const step of explanation.steps) print(`${step.stage}\t${step.outcome}\t${step.detail}`);
        const verb = explanation.outcome === 'allow' ? 'may' : 'may not';
        print(`${explanation.outcome}: ${explanation.subject} ${verb} ${explanation.action} ${explanation.repository}`);
      }
      if (explanation.outcome === 'deny') process.exitCode = DENIED_EXIT;
    });
}

/**
 * `portcullis who-can REPOSITORY`: a command of its own rather than `explain who-can`, where
 * it would shadow a user who happens to be named "who-can".
 */
export function whoCanCommand(): Command {
  return withStoreOptions(new Command('who-can'))
    .argument('<repository>', 'e.g. team/app')
    .description('every user, person, robot, federation rule and group whose bindings allow the action, disabled and expired ones marked')
    .option('--action <action>', EXPLAIN_ACTIONS.join('|'), 'pull')
    .option('--json', 'one JSON object per principal and line')
    .action(async (repository: string, options: Omit<ExplainOptions, 'address'>) => {
      const entries = await withAdmin(options, (admin) => admin.explain.whoCan({ repository, action: options.action }));
      if (options.json) {
        for (const e of entries) print(JSON.stringify(e));
        return;
      }
      if (entries.length === 0) {
        print(`nobody can ${options.action} ${repository}`);
        return;
      }
      print(['subject', 'kind', 'granted by', 'networks', 'state'].join('\t'));
      for (const e of entries) {
        const networks = e.networks.map((n) => `${n.by} ${n.cidrs.join(',')}`).join('; ') || 'anywhere';
        const state = [e.disabled ? 'disabled' : '', e.expired ? 'expired' : ''].filter(Boolean).join(', ') || 'active';
        print([e.subject, e.kind, e.grantedBy.join('; '), networks, state].join('\t'));
      }
    });
}

import { Command } from 'commander';
import { EXPLAIN_ACTIONS, type Explanation } from '../../src/admin/index.js';
import { print, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

type ExplainOptions = StoreOptions & { action: string; address?: string; json?: boolean };

/** Exit status of a denial: the command worked and the answer is no, as with `credentials report --max-findings`. */
const DENIED_EXIT = 3;

/** `portcullis explain SUBJECT REPOSITORY`: the decision chain, one stage per line. */
export function explainCommand(): Command {
  return withStoreOptions(new Command('explain'))
    .argument('<subject>', 'a user or person by name, robot+NAME, rule+NAME or group:NAME')
    .argument('<repository>', 'e.g. team/app')
    .description(`why SUBJECT would be allowed or denied an action on REPOSITORY; exit ${DENIED_EXIT} when denied (an allow that depends on an unchecked stage says so)`)
    .option('--action <action>', EXPLAIN_ACTIONS.join('|'), 'pull')
    .option('--address <ip>', 'the client address to check address rules against')
    .option('--json', 'the explanation as one JSON object')
    .action(async (subject: string, repository: string, options: ExplainOptions) => {
      const explanation = await withAdmin(options, (admin) => admin.explain.explain({ subject, repository, action: options.action, address: options.address }));
      if (options.json) {
        print(JSON.stringify(explanation));
      } else {
        for (const step of explanation.steps) print(`${step.stage}\t${step.outcome}\t${step.detail}`);
        print(verdictLine(explanation));
      }
      if (explanation.outcome === 'deny') process.exitCode = DENIED_EXIT;
    });
}

/**
 * The last line: a plain allow or deny, or an allow that names the stages it still depends on,
 * so that an answer given without `--address` does not read as a full yes.
 */
function verdictLine(e: Explanation): string {
  const what = `${e.subject} ${e.outcome === 'allow' ? 'may' : 'may not'} ${e.action} ${e.repository}`;
  if (!e.conditional) return `${e.outcome}: ${what}`;
  const stages = e.conditions.map((c) => c.stage);
  const which = stages.length === 1 ? `the ${stages[0]} stage passes` : `the ${stages.slice(0, -1).join(', ')} and ${stages.at(-1)} stages pass`;

  return `allow, if ${which}: ${what}`;
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

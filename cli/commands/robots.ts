import { Command } from 'commander';
import { ROLES } from '../../src/access/roles.js';
import { duration } from '../../src/admin/index.js';
import { ROBOT_PREFIX } from '../../src/identity/robots.js';
import { addAllowCommand } from './networks.js';
import { print, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

type CreateOptions = StoreOptions & { namespace: string; role: string; expiresIn: string };

/** `portcullis robot create|list|rotate|disable|enable|allow|delete`. */
export function robotCommand(): Command {
  const robot = new Command('robot').description(`robot accounts (sign in as ${ROBOT_PREFIX}NAME with the secret)`);

  withStoreOptions(robot.command('create <name>'))
    .description('create a robot with one role on one namespace; the secret is printed once')
    .requiredOption('--namespace <ns>', 'the namespace that owns it and that it may use')
    .option('--role <role>', ROLES.join('|'), 'reader')
    .option('--expires-in <time>', 'lifetime, e.g. 30d (at most robots.maxLifetimeDays)', '90d')
    .action(async (name: string, options: CreateOptions) => {
      const lifetimeMs = duration(options.expiresIn, '--expires-in');
      const { robot: created, secret } = await withAdmin(options, (admin) =>
        admin.credentials.addRobot({ name, namespace: options.namespace, role: options.role, lifetimeMs }),
      );
      print(`created ${created.signInName} (${options.role} on ${created.namespace}, expires ${new Date(created.expiresAt).toISOString()})`);
      print(`secret (shown once): ${secret}`);
    });

  withStoreOptions(robot.command('list'))
    .description('list robots: name, namespace, role, expiry, last use and address, state, networks')
    .action(async (options: StoreOptions) => {
      const now = Date.now();
      for (const r of await withAdmin(options, (admin) => admin.credentials.robots())) {
        const used = r.lastUsedAt === null ? 'never used' : `last used ${new Date(r.lastUsedAt).toISOString()} from ${r.lastUsedIp}`;
        const state = r.disabled ? 'disabled' : r.expiresAt <= now ? 'expired' : 'enabled';
        const from = r.allowedCidrs ? `\tfrom ${r.allowedCidrs.join(',')}` : '';
        print(`${r.signInName}\t${r.namespace}\t${r.role ?? '-'}\texpires ${new Date(r.expiresAt).toISOString()}\t${used}\t${state}${from}`);
      }
    });

  withStoreOptions(robot.command('rotate <name>'))
    .description('issue a new secret; the old one keeps working for the overlap')
    .option('--overlap <time>', 'how long the old secret stays valid', '1h')
    .action(async (name: string, options: StoreOptions & { overlap: string }) => {
      const overlap = duration(options.overlap, '--overlap');
      const { secret, previousUntil } = await withAdmin(options, (admin) => admin.credentials.rotateRobot(name, overlap));
      print(`new secret for ${ROBOT_PREFIX}${name} (shown once): ${secret}`);
      print(`the previous secret works until ${new Date(previousUntil).toISOString()}`);
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    withStoreOptions(robot.command(`${verb} <name>`))
      .description(`${verb} a robot (takes effect on its next request)`)
      .action(async (name: string, options: StoreOptions) => {
        await withAdmin(options, (admin) => admin.credentials.setRobotDisabled(name, disabled));
        print(`${verb}d ${ROBOT_PREFIX}${name}`);
      });
  }

  addAllowCommand(robot, 'robot');

  withStoreOptions(robot.command('delete <name>'))
    .description('delete a robot and its binding')
    .action(async (name: string, options: StoreOptions) => {
      await withAdmin(options, (admin) => admin.credentials.removeRobot(name));
      print(`deleted ${ROBOT_PREFIX}${name}`);
    });

  return robot;
}

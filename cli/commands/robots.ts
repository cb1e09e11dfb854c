import { Command } from 'commander';
import { isRole, ROLES } from '../../src/access/roles.js';
import { generateRobotSecret, hashRobotSecret, ROBOT_PREFIX } from '../../src/identity/robots.js';
import { addAllowCommand } from './networks.js';
import { configFrom, print, UsageError, withStore, withStoreOptions, type StoreOptions } from '../context.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Reads `90d`, `12h`, `30m` or `45s`. */
function duration(text: string, what: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text);
  if (!match) throw new UsageError(`${what} must look like 90d, 12h, 30m or 45s`);

  return Number(match[1]) * UNITS[match[2]!]!;
}

type CreateOptions = StoreOptions & { namespace?: string; role?: string; expiresIn?: string };

/** `portcullis robot create|list|rotate|disable|enable|delete`. */
export function robotCommand(): Command {
  const robot = new Command('robot').description(`robot accounts (sign in as ${ROBOT_PREFIX}NAME with the secret)`);

  withStoreOptions(robot.command('create <name>'))
    .description('create a robot with one role on one namespace; the secret is printed once')
    .requiredOption('--namespace <ns>', 'the namespace that owns it and that it may use')
    .option('--role <role>', ROLES.join('|'), 'reader')
    .option('--expires-in <time>', 'lifetime, e.g. 30d (at most robots.maxLifetimeDays)', '90d')
    .action(async (name: string, options: CreateOptions) => {
      if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new UsageError('robot names are 1-64 characters: a-z, 0-9, ".", "_", "-"');
      if (!isRole(options.role!) || options.role === 'admin') throw new UsageError('role must be reader, writer or maintainer');
      const config = configFrom(options);
      const lifetime = duration(options.expiresIn!, '--expires-in');
      if (lifetime > config.robots.maxLifetimeDays * UNITS.d!) {
        throw new UsageError(`--expires-in may be at most ${config.robots.maxLifetimeDays}d (robots.maxLifetimeDays)`);
      }
      const secret = generateRobotSecret();
      const created = await withStore(options, async (store) => {
        if (!(await store.principals.listNamespaces()).some((n) => n.name === options.namespace)) {
          throw new UsageError(`no namespace "${options.namespace}"`);
        }
        if (await store.robots.byName(name)) throw new UsageError(`robot "${name}" already exists`);
        return store.robots.create({
          name,
          namespace: options.namespace!,
          role: options.role!,
          secretHash: hashRobotSecret(secret),
          expiresAt: Date.now() + lifetime,
        });
      });
      print(`created ${ROBOT_PREFIX}${name} (${options.role} on ${created.namespace}, expires ${new Date(created.expiresAt).toISOString()})`);
      print(`secret (shown once): ${secret}`);
    });

  withStoreOptions(robot.command('list'))
    .description('list robots: name, namespace, expiry, last use and address, state')
    .action(async (options: StoreOptions) => {
      const now = Date.now();
      for (const r of await withStore(options, (store) => store.robots.list())) {
        const used = r.lastUsedAt === null ? 'never used' : `last used ${new Date(r.lastUsedAt).toISOString()} from ${r.lastUsedIp}`;
        const state = r.disabled ? 'disabled' : r.expiresAt <= now ? 'expired' : 'enabled';
        const from = r.allowedCidrs ? `\tfrom ${r.allowedCidrs.join(',')}` : '';
        print(`${ROBOT_PREFIX}${r.name}\t${r.namespace}\texpires ${new Date(r.expiresAt).toISOString()}\t${used}\t${state}${from}`);
      }
    });

  withStoreOptions(robot.command('rotate <name>'))
    .description('issue a new secret; the old one keeps working for the overlap')
    .option('--overlap <time>', 'how long the old secret stays valid', '1h')
    .action(async (name: string, options: StoreOptions & { overlap: string }) => {
      const overlap = duration(options.overlap, '--overlap');
      const secret = generateRobotSecret();
      const found = await withStore(options, (store) => store.robots.rotate(name, hashRobotSecret(secret), Date.now() + overlap));
      if (!found) throw new UsageError(`no robot "${name}"`);
      print(`new secret for ${ROBOT_PREFIX}${name} (shown once): ${secret}`);
      print(`the previous secret works until ${new Date(Date.now() + overlap).toISOString()}`);
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    withStoreOptions(robot.command(`${verb} <name>`))
      .description(`${verb} a robot (takes effect on its next request)`)
      .action(async (name: string, options: StoreOptions) => {
        if (!(await withStore(options, (store) => store.robots.setDisabled(name, disabled)))) throw new UsageError(`no robot "${name}"`);
        print(`${verb}d ${ROBOT_PREFIX}${name}`);
      });
  }

  addAllowCommand(robot, 'robot');

  withStoreOptions(robot.command('delete <name>'))
    .description('delete a robot and its binding')
    .action(async (name: string, options: StoreOptions) => {
      if (!(await withStore(options, (store) => store.robots.remove(name)))) throw new UsageError(`no robot "${name}"`);
      print(`deleted ${ROBOT_PREFIX}${name}`);
    });

  return robot;
}

import { Command } from 'commander';
import { addAllowCommand } from './networks.js';
import { print, readStdinLine, UsageError, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

type PasswordOptions = StoreOptions & { passwordStdin?: boolean };

/** The password from standard input with --password-stdin; otherwise undefined, to generate one. */
async function chosenPassword(options: PasswordOptions): Promise<string | undefined> {
  return options.passwordStdin ? readStdinLine() : undefined;
}

/** `portcullis user add|list|disable|enable|passwd|allow|environments`. */
export function userCommand(): Command {
  const user = new Command('user').description('manage local users');

  withStoreOptions(user.command('add <name>'))
    .description('create a user (the password is generated and printed unless --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (name: string, options: PasswordOptions) => {
      const password = await chosenPassword(options);
      const { generated } = await withAdmin(options, (admin) => admin.people.addUser(name, password));
      print(generated ? `created user ${name} with password ${generated}` : `created user ${name}`);
    });

  withStoreOptions(user.command('list'))
    .description('list users')
    .action(async (options: StoreOptions) => {
      for (const u of await withAdmin(options, (admin) => admin.people.users())) {
        const exception = u.mixedEnvironments ? '\tmixed-environments' : '';
        print(`${u.name}\t${u.disabled ? 'disabled' : 'enabled'}\t${new Date(u.createdAt).toISOString()}${exception}`);
      }
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    withStoreOptions(user.command(`${verb} <name>`))
      .description(`${verb} a user (takes effect on the user's next request)`)
      .action(async (name: string, options: StoreOptions) => {
        await withAdmin(options, (admin) => admin.people.setUserDisabled(name, disabled));
        print(`${verb}d user ${name}`);
      });
  }

  withStoreOptions(user.command('passwd <name>'))
    .description("set a user's password (generated and printed unless --password-stdin)")
    .option('--password-stdin', 'read the password from standard input')
    .action(async (name: string, options: PasswordOptions) => {
      const password = await chosenPassword(options);
      const { generated } = await withAdmin(options, (admin) => admin.people.setPassword(name, password));
      print(generated ? `new password for ${name}: ${generated}` : `changed the password of ${name}`);
    });

  addAllowCommand(user, 'user');

  withStoreOptions(user.command('environments <name>'))
    .description('allow (--mixed) or forbid (--separate) bindings in both production and non-production namespaces')
    .option('--mixed', 'allow it: an exception, listed by `user list` and `bindings`')
    .option('--separate', 'forbid it again (the default)')
    .action(async (name: string, options: StoreOptions & { mixed?: boolean; separate?: boolean }) => {
      if (Boolean(options.mixed) === Boolean(options.separate)) throw new UsageError('give exactly one of --mixed or --separate');
      await withAdmin(options, (admin) => admin.people.setMixedEnvironments(name, Boolean(options.mixed)));
      print(options.mixed ? `${name} may hold bindings in production and non-production namespaces` : `${name} must keep production and non-production apart`);
    });

  return user;
}

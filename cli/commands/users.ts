import { Command } from 'commander';
import { generatePassword, hashPassword, passwordProblem } from '../../src/identity/passwords.js';
import { addAllowCommand } from './networks.js';
import { print, readStdinLine, UsageError, withStore, withStoreOptions, type StoreOptions } from '../context.js';

type PasswordOptions = StoreOptions & { passwordStdin?: boolean };

async function newPassword(options: PasswordOptions): Promise<{ password: string; generated: boolean }> {
  if (!options.passwordStdin) return { password: generatePassword(), generated: true };
  const password = await readStdinLine();
  const problem = passwordProblem(password);
  if (problem) throw new UsageError(problem);

  return { password, generated: false };
}

/** `portcullis user add|list|disable|enable|passwd`. */
export function userCommand(): Command {
  const user = new Command('user').description('manage local users');

  withStoreOptions(user.command('add <name>'))
    .description('create a user (the password is generated and printed unless --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (name: string, options: PasswordOptions) => {
      if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
        throw new UsageError('user names are 1-64 characters: lower-case letters, digits, ".", "_", "-"');
      }
      const { password, generated } = await newPassword(options);
      await withStore(options, async (store) => {
        if (await store.principals.userByName(name)) throw new UsageError(`user "${name}" already exists`);
        await store.principals.createUser(name, await hashPassword(password));
      });
      print(generated ? `created user ${name} with password ${password}` : `created user ${name}`);
    });

  withStoreOptions(user.command('list'))
    .description('list users')
    .action(async (options: StoreOptions) => {
      const users = await withStore(options, (store) => store.principals.listUsers());
      for (const u of users) {
        const exception = u.mixedEnvironments ? '\tmixed-environments' : '';
        print(`${u.name}\t${u.disabled ? 'disabled' : 'enabled'}\t${new Date(u.createdAt).toISOString()}${exception}`);
      }
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    withStoreOptions(user.command(`${verb} <name>`))
      .description(`${verb} a user (takes effect on the user's next request)`)
      .action(async (name: string, options: StoreOptions) => {
        const found = await withStore(options, (store) => store.principals.setDisabled(name, disabled));
        if (!found) throw new UsageError(`no user "${name}"`);
        print(`${verb}d user ${name}`);
      });
  }

  withStoreOptions(user.command('passwd <name>'))
    .description("set a user's password (generated and printed unless --password-stdin)")
    .option('--password-stdin', 'read the password from standard input')
    .action(async (name: string, options: PasswordOptions) => {
      const { password, generated } = await newPassword(options);
      const found = await withStore(options, async (store) => store.principals.setPassword(name, await hashPassword(password)));
      if (!found) throw new UsageError(`no user "${name}"`);
      print(generated ? `new password for ${name}: ${password}` : `changed the password of ${name}`);
    });

  addAllowCommand(user, 'user');

  withStoreOptions(user.command('environments <name>'))
    .description('allow (--mixed) or forbid (--separate) bindings in both production and non-production namespaces')
    .option('--mixed', 'allow it: an exception, listed by `user list` and `bindings`')
    .option('--separate', 'forbid it again (the default)')
    .action(async (name: string, options: StoreOptions & { mixed?: boolean; separate?: boolean }) => {
      if (Boolean(options.mixed) === Boolean(options.separate)) throw new UsageError('give exactly one of --mixed or --separate');
      const found = await withStore(options, (store) => store.principals.setMixedEnvironments(name, Boolean(options.mixed)));
      if (!found) throw new UsageError(`no user "${name}"`);
      print(options.mixed ? `${name} may hold bindings in production and non-production namespaces` : `${name} must keep production and non-production apart`);
    });

  return user;
}

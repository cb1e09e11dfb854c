import { userInfo } from 'node:os';
import { Command } from 'commander';
import { print, UsageError, withAdmin, withStoreOptions, type StoreOptions } from '../context.js';

interface RevokeOptions extends StoreOptions {
  jti?: string;
  user?: string;
  robot?: string;
  rule?: string;
  all?: boolean;
  before?: string;
  reason?: string;
}

/** `portcullis token revoke --jti ID | --user NAME | --robot NAME | --rule NAME | --all [--before TIME]`. */
export function tokenCommand(): Command {
  const token = new Command('token').description('registry tokens');

  withStoreOptions(token.command('revoke'))
    .description('revoke one token, every token of a user, robot or federation rule, or every token (emergency); effective on the next request')
    .option('--jti <id>', 'the token id (jti), as logged with each request')
    .option('--user <name>', 'every token and refresh token the user holds now')
    .option('--robot <name>', 'every token the robot holds now (its secret stays valid: disable or rotate it too)')
    .option('--rule <name>', 'every token minted through the federation rule so far')
    .option('--all', 'every token and refresh token issued so far, for everyone')
    .option('--before <time>', 'with --all: only tokens issued before this ISO 8601 time')
    .option('--reason <text>', 'why, for the record')
    .action(async (options: RevokeOptions) => {
      const chosen = [options.jti, options.user, options.robot, options.rule, options.all].filter((v) => v !== undefined);
      if (chosen.length !== 1) throw new UsageError('give exactly one of --jti, --user, --robot, --rule or --all');
      const before = options.before === undefined ? undefined : Date.parse(options.before);
      if (Number.isNaN(before)) throw new UsageError('--before must be an ISO 8601 time');
      const { description } = await withAdmin(options, (admin) =>
        admin.credentials.revoke({ ...options, before, actor: `cli:${userInfo().username}` }),
      );
      print(description);
    });

  return token;
}

import { userInfo } from 'node:os';
import { Command } from 'commander';
import { userPrincipal } from '../../src/identity/directory.js';
import { RULE_PREFIX } from '../../src/identity/federation/service.js';
import { ROBOT_PREFIX, robotPrincipal } from '../../src/identity/robots.js';
import { rulePrincipal } from '../../src/storage/metadata/federation.js';
import type { NewRevocation } from '../../src/storage/metadata/index.js';
import { configFrom, print, UsageError, withStore, withStoreOptions, type StoreOptions } from '../context.js';

/** Clock skew allowed when tokens are checked; a revocation must outlive it too. */
const LEEWAY_MS = 60_000;

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
    .description('revoke one token, every token of a user, or every token (emergency); effective on the next request')
    .option('--jti <id>', 'the token id (jti), as logged with each request')
    .option('--user <name>', "every token and refresh token the user holds now")
    .option('--robot <name>', 'every token the robot holds now (its secret stays valid: disable or rotate it too)')
    .option('--rule <name>', 'every token minted through the federation rule so far')
    .option('--all', 'every token and refresh token issued so far, for everyone')
    .option('--before <time>', 'with --all: only tokens issued before this ISO 8601 time')
    .option('--reason <text>', 'why, for the record')
    .action(async (options: RevokeOptions) => {
      const chosen = [options.jti, options.user, options.robot, options.rule, options.all].filter((v) => v !== undefined);
      if (chosen.length !== 1) throw new UsageError('give exactly one of --jti, --user, --robot, --rule or --all');
      const config = configFrom(options);
      const now = Date.now();
      const lifetime = config.auth.tokenTtl * 1000 + LEEWAY_MS;
      const base = { reason: options.reason ?? null, actor: `cli:${userInfo().username}`, expiresAt: now + lifetime };

      const message = await withStore(options, async (store) => {
        let revocation: NewRevocation;
        if (options.jti !== undefined) {
          if (!/^[A-Za-z0-9-]{1,64}$/.test(options.jti)) throw new UsageError('--jti must be a token id');
          revocation = { ...base, kind: 'token', principal: null, jti: options.jti, before: null };
        } else if (options.user !== undefined) {
          const user = await store.principals.userByName(options.user);
          if (!user) throw new UsageError(`no user "${options.user}"`);
          revocation = { ...base, kind: 'subject', principal: userPrincipal(user.id), jti: null, before: now };
        } else if (options.robot !== undefined) {
          const robot = await store.robots.byName(options.robot);
          if (!robot) throw new UsageError(`no robot "${options.robot}"`);
          revocation = { ...base, kind: 'subject', principal: robotPrincipal(robot.id), jti: null, before: now };
        } else if (options.rule !== undefined) {
          const rule = await store.federation.ruleByName(options.rule);
          if (!rule) throw new UsageError(`no rule "${options.rule}"`);
          revocation = { ...base, kind: 'subject', principal: rulePrincipal(rule.id), jti: null, before: now };
        } else {
          const before = options.before === undefined ? now : Date.parse(options.before);
          if (Number.isNaN(before)) throw new UsageError('--before must be an ISO 8601 time');
          revocation = { ...base, kind: 'all', principal: null, jti: null, before: Math.min(before, now) };
        }
        await store.revocations.add(revocation);

        return revocation.kind === 'token'
          ? `revoked token ${options.jti}`
          : revocation.kind === 'subject'
            ? `revoked every token${options.user !== undefined ? ' and refresh token' : ''} of ${options.user ?? (options.robot !== undefined ? `${ROBOT_PREFIX}${options.robot}` : `${RULE_PREFIX}${options.rule}`)}`
            : `revoked every token issued before ${new Date(revocation.before!).toISOString()}`;
      });
      print(message);
    });

  return token;
}

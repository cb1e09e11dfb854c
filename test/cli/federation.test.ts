import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWorkspace, usageError } from './support/run-cli.js';

const GITHUB = 'https://token.actions.githubusercontent.com';

describe('portcullis federation issuer|rule', () => {
  const ws = { run: undefined as unknown as Awaited<ReturnType<typeof cliWorkspace>>['run'], remove: async () => {} };
  beforeAll(async () => {
    Object.assign(ws, await cliWorkspace());
    for (const [name, env] of [['shop', 'prod'], ['shop-ci', 'build']] as const) {
      expect((await ws.run(['namespace', 'create', name, '--environment', env])).code).toBe(0);
    }
    expect((await ws.run(['user', 'add', 'alice', '--password-stdin'], { stdin: 'a-long-enough-password\n' })).code).toBe(0);
  });
  afterAll(() => ws.remove());

  it('adds an OIDC issuer with discovery and lists it', async () => {
    const added = await ws.run(['federation', 'issuer', 'add', 'github', '--issuer', GITHUB, '--audience', 'https://registry.example.com']);
    expect(added.stderr).toBe('');
    expect(added.stdout).toBe(`trusted oidc issuer github (${GITHUB}); audiences https://registry.example.com; algorithms RS256, ES256\n`);
    expect((await ws.run(['federation', 'issuer', 'list'])).stdout).toBe(
      `github\toidc\t${GITHUB}\taud https://registry.example.com\tRS256,ES256\tdiscovery\tstore\n`,
    );
  });

  it('refuses unsafe or incomplete issuers with the reason', async () => {
    const cases: Array<[string[], string]> = [
      [['plain', '--issuer', 'http://ci.example.com', '--audience', 'x'], 'issuer: an OIDC issuer is an https URL (http only on loopback)'],
      [['hmac', '--issuer', GITHUB, '--audience', 'x', '--algorithms', 'HS256'], expect.stringMatching(/^algorithms\.0: /) as unknown as string],
      [['none', '--issuer', GITHUB, '--audience', 'x', '--algorithms', 'none'], expect.stringMatching(/^algorithms\.0: /) as unknown as string],
      [['mesh', '--kind', 'spiffe', '--issuer', 'example.org', '--audience', 'x'], 'a SPIFFE trust domain needs its bundle: jwksUri or jwksFile'],
      [['alice', '--issuer', GITHUB, '--audience', 'x'], '"alice" is a user\'s name; choose another alias'],
      [['github', '--issuer', 'https://gitlab.com', '--audience', 'x'], 'issuer "github" already exists'],
      [['github2', '--issuer', GITHUB, '--audience', 'x'], `issuer ${GITHUB} is trusted already, as "github"`],
      [['Bad Alias', '--issuer', GITHUB, '--audience', 'x'], 'alias: aliases are 1-64 characters: a-z, 0-9, ".", "_", "-"'],
    ];
    for (const [args, message] of cases) {
      const result = await ws.run(['federation', 'issuer', 'add', ...args]);
      expect(result.code).toBe(1);
      if (typeof message === 'string') expect(result.stderr).toBe(usageError(message));
      else expect(result.stderr.replace(/^portcullis: /, '').trim()).toEqual(message);
    }
  });

  it('adds a rule with globs and lists, shows its bindings, and refuses mixing environments unless allowed', async () => {
    const added = await ws.run([
      'federation', 'rule', 'add', 'release',
      '--issuer', 'github',
      '--claim', 'repository_id=123456',
      '--claim', 'ref=refs/heads/main',
      '--claim', 'ref=refs/tags/v*',
      '--grant', 'shop-ci=writer',
    ]);
    expect(added.stderr).toBe('');
    expect(added.stdout).toBe(
      'added rule release: github tokens with {"repository_id":"123456","ref":["refs/heads/main","refs/tags/v*"]} get writer on shop-ci\n',
    );
    expect((await ws.run(['federation', 'rule', 'list'])).stdout).toBe(
      'release\tgithub\t{"repository_id":"123456","ref":["refs/heads/main","refs/tags/v*"]}\tshop-ci=writer\tnever used\tenabled\n',
    );
    expect((await ws.run(['bindings'])).stdout).toContain('shop-ci\twriter\trule+release\n');

    const mixed = ['federation', 'rule', 'add', 'deploy', '--issuer', 'github', '--claim', 'repository_id=1', '--grant', 'shop=reader', '--grant', 'shop-ci=reader'];
    expect((await ws.run(mixed)).stderr).toBe(
      usageError(
        'refusing: rule deploy would reach production (shop) and non-production (shop-ci) namespaces; allow it explicitly with --mixed-environments (API: "mixedEnvironments": true)',
      ),
    );
    expect((await ws.run([...mixed, '--mixed-environments'])).code).toBe(0);
    expect((await ws.run(['bindings'])).stdout).toContain('shop\treader\trule+deploy\tmixed-environments\n');
  });

  it('counts nested namespaces as reached (regression: a build rule on shop-ci reached a prod shop-ci/release)', async () => {
    expect((await ws.run(['namespace', 'create', 'shop-ci/release', '--environment', 'prod'])).stderr).toBe(
      usageError(
        'refusing to create shop-ci/release: rule+release would reach production (shop-ci/release) and non-production (shop-ci) namespaces',
      ),
    );
    expect((await ws.run(['namespace', 'create', 'shop-ci/tools', '--environment', 'build'])).code).toBe(0);
    expect((await ws.run(['namespace', 'create', 'shop/live', '--environment', 'prod'])).code).toBe(0);
    const dup = ['federation', 'rule', 'add', 'dup', '--issuer', 'github', '--claim', 'repository_id=7', '--grant', 'shop-ci=reader', '--grant', 'shop-ci=writer'];
    expect((await ws.run(dup)).stderr).toBe(usageError('a rule has at most one role per namespace'));
  });

  it('refuses rules that would accept anyone or reach too far', async () => {
    const base = ['federation', 'rule', 'add', 'wide', '--issuer', 'github'];
    const cases: Array<[string[], string]> = [
      [['--claim', 'repository=*', '--grant', 'shop-ci=reader'], 'the condition on repository matches anything; name the values it may take'],
      [['--claim', 'novalue', '--grant', 'shop-ci=reader'], '--claim must look like name=value, got "novalue"'],
      [['--claim', 'repository_id=1', '--grant', '*=reader'], 'a federation rule cannot be bound to every namespace (*)'],
      [['--claim', 'repository_id=1', '--grant', 'shop-ci=admin'], 'a rule\'s role must be reader, writer or maintainer, not "admin"'],
      [['--claim', 'repository_id=1', '--grant', 'nowhere=reader'], 'no namespace "nowhere"'],
    ];
    for (const [args, message] of cases) expect((await ws.run([...base, ...args])).stderr).toBe(usageError(message));
    expect((await ws.run(['federation', 'rule', 'add', 'x', '--issuer', 'gitlab', '--claim', 'a=b', '--grant', 'shop-ci=reader'])).stderr).toBe(
      usageError('no issuer "gitlab": add it (federation issuer add), or pass the configuration file that defines it (--config or PORTCULLIS_CONFIG)'),
    );
  });

  it('restricts, disables, revokes and removes a rule; an issuer in use cannot go', async () => {
    expect((await ws.run(['federation', 'rule', 'allow', 'release', '--cidr', '10.0.0.0/8'])).stdout).toBe('rule release may be used from 10.0.0.0/8\n');
    expect((await ws.run(['federation', 'rule', 'disable', 'release'])).stdout).toBe('disabled rule release\n');
    expect((await ws.run(['federation', 'rule', 'list'])).stdout).toContain('\tdisabled from 10.0.0.0/8\n');
    expect((await ws.run(['token', 'revoke', '--rule', 'release'])).stdout).toBe('revoked every token of rule+release\n');
    expect((await ws.run(['federation', 'issuer', 'remove', 'github'])).stderr).toBe(usageError('rules still use issuer "github"; remove them first'));
    expect((await ws.run(['federation', 'rule', 'remove', 'release'])).stdout).toBe('removed rule release\n');
    expect((await ws.run(['federation', 'rule', 'remove', 'deploy'])).code).toBe(0);
    expect((await ws.run(['bindings'])).stdout).not.toContain('rule+');
    expect((await ws.run(['federation', 'issuer', 'remove', 'github'])).stdout).toBe('removed issuer github\n');
  });

  it('restricts a robot to networks and revokes its tokens', async () => {
    expect((await ws.run(['robot', 'create', 'pusher', '--namespace', 'shop-ci', '--role', 'writer'])).code).toBe(0);
    expect((await ws.run(['robot', 'allow', 'pusher', '--cidr', '192.0.2.0/24'])).stdout).toBe('robot pusher may be used from 192.0.2.0/24\n');
    expect((await ws.run(['robot', 'list'])).stdout).toMatch(/\tfrom 192\.0\.2\.0\/24\n$/);
    expect((await ws.run(['token', 'revoke', '--robot', 'pusher'])).stdout).toBe('revoked every token of robot+pusher\n');
    expect((await ws.run(['token', 'revoke', '--robot', 'ghost'])).stderr).toBe(usageError('no robot "ghost"'));
  });
});

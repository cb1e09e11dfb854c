import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWorkspace, usageError } from './support/run-cli.js';

describe('portcullis explain and who-can', () => {
  let ws: Awaited<ReturnType<typeof cliWorkspace>>;
  const ok = async (...args: string[]) => {
    const result = await ws.run(args, { stdin: 'a-long-enough-password\n' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  };

  beforeAll(async () => {
    ws = await cliWorkspace();
    await ok('namespace', 'create', 'team');
    await ok('user', 'add', 'alice', '--password-stdin');
    await ok('grant', 'writer', 'alice', 'team');
    await ok('user', 'add', 'bob', '--password-stdin');
    await ok('grant', 'reader', 'bob', 'team');
    await ok('user', 'disable', 'bob');
    await ok('robot', 'create', 'ci', '--namespace', 'team', '--role', 'reader');
    await ok('robot', 'allow', 'ci', '--cidr', '10.0.0.0/8');
  });
  afterAll(() => ws.remove());

  it('prints one stage per line and exits 0 when allowed', async () => {
    const result = await ws.run(['explain', 'alice', 'team/app', '--action', 'push']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      [
        'identity\tpass\tuser alice: enabled',
        'bindings\tpass\tpush granted by writer on namespace team',
        'network\tpass\tno address rules apply',
        'trust\tpass\tno trust policy; secret scan warn',
        'allow: alice may push team/app',
        '',
      ].join('\n'),
    );
  });

  it('exits 3 when denied, at the stage that failed', async () => {
    const disabled = await ws.run(['explain', 'bob', 'team/app']);
    expect(disabled.code).toBe(3);
    expect(disabled.stdout).toContain('identity\tfail\tuser bob: disabled\nbindings\tskip\tnot checked: an earlier stage failed\n');
    expect(disabled.stdout).toMatch(/deny: bob may not pull team\/app\n$/);

    const outside = await ws.run(['explain', 'robot+ci', 'team/app', '--address', '192.168.0.1', '--json']);
    expect(outside.code).toBe(3);
    const explanation = JSON.parse(outside.stdout) as { outcome: string; steps: Array<{ stage: string; outcome: string; detail: string }> };
    expect(explanation.outcome).toBe('deny');
    expect(explanation.steps[2]).toEqual({
      stage: 'network',
      outcome: 'fail',
      detail: "address 192.168.0.1 is outside the credential's allowed networks (credential allows 10.0.0.0/8)",
    });
    expect((await ws.run(['explain', 'robot+ci', 'team/app', '--address', '10.9.9.9'])).code).toBe(0);
  });

  it('says what an allow depends on when the address is not given, and still exits 0', async () => {
    const result = await ws.run(['explain', 'robot+ci', 'team/app']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('network\tskip\tdepends on the client address: credential allows 10.0.0.0/8\n');
    expect(result.stdout).toMatch(/\nallow, if the network stage passes: robot\+ci may pull team\/app\n$/);

    const json = JSON.parse((await ws.run(['explain', 'robot+ci', 'team/app', '--json'])).stdout) as { outcome: string; conditional: boolean; conditions: Array<{ stage: string }> };
    expect(json).toMatchObject({ outcome: 'allow', conditional: true, conditions: [{ stage: 'network' }] });
  });

  it('fails with a message for an unknown subject, a bad repository or action', async () => {
    const unknown = await ws.run(['explain', 'nobody', 'team/app']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(usageError('no subject "nobody" (users by name, robots as robot+NAME, federation rules as rule+NAME, groups as group:NAME)'));
    expect(unknown.stdout).toBe('');
    expect(await ws.run(['explain', 'alice', 'Team/App'])).toMatchObject({ code: 1, stderr: usageError('"Team/App" is not a valid repository name') });
    expect(await ws.run(['who-can', 'team/app', '--action', 'admin'])).toMatchObject({ code: 1, stderr: usageError('action must be one of pull, push, delete') });
  });

  it('lists who can pull, marking the disabled and the restricted', async () => {
    const table = await ws.run(['who-can', 'team/app']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toBe(
      [
        'subject\tkind\tgranted by\tnetworks\tstate',
        'alice\tuser\twriter on namespace team\tanywhere\tactive',
        'bob\tuser\treader on namespace team\tanywhere\tdisabled',
        'robot+ci\trobot\treader on namespace team\tcredential 10.0.0.0/8\tactive',
        '',
      ].join('\n'),
    );
    const json = await ws.run(['who-can', 'team/app', '--action', 'push', '--json']);
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { subject: 'alice', kind: 'user', grantedBy: ['writer on namespace team'], networks: [], disabled: false, expired: false },
    ]);
    expect((await ws.run(['who-can', 'other/app'])).stdout).toBe('nobody can pull other/app\n');
  });
});

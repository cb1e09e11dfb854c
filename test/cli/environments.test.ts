import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWorkspace, usageError } from './support/run-cli.js';

describe('environment separation on grant', () => {
  const ws = { run: undefined as unknown as Awaited<ReturnType<typeof cliWorkspace>>['run'], remove: async () => {} };
  beforeAll(async () => {
    const created = await cliWorkspace();
    Object.assign(ws, created);
    for (const [name, env] of [['shop', 'prod'], ['shop-ci', 'build'], ['tools', undefined]] as const) {
      const args = ['namespace', 'create', name, ...(env ? ['--environment', env] : [])];
      expect((await ws.run(args)).code).toBe(0);
    }
    expect((await ws.run(['user', 'add', 'ci-bot', '--password-stdin'], { stdin: 'a-long-enough-password\n' })).code).toBe(0);
  });
  afterAll(() => ws.remove());

  it('refuses to bind one user to production and non-production namespaces, naming both', async () => {
    expect((await ws.run(['grant', 'writer', 'ci-bot', 'shop-ci'])).code).toBe(0);
    const refused = await ws.run(['grant', 'reader', 'ci-bot', 'shop']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      usageError(
        'refusing: ci-bot would reach production (shop) and non-production (shop-ci) namespaces; ' +
          'to allow it, run: portcullis user environments ci-bot --mixed',
      ),
    );
    expect((await ws.run(['bindings'])).stdout).not.toContain('shop\treader');
  });

  it("does not count the administrators' root namespace", async () => {
    expect((await ws.run(['user', 'add', 'ops', '--password-stdin'], { stdin: 'another-long-password\n' })).code).toBe(0);
    expect((await ws.run(['grant', 'admin', 'ops', '*'])).code).toBe(0);
    expect((await ws.run(['grant', 'reader', 'ops', 'shop'])).code).toBe(0);
  });

  it('allows the binding once an admin records the exception, and lists the exception', async () => {
    expect((await ws.run(['user', 'environments', 'ci-bot', '--mixed'])).stdout).toBe(
      'ci-bot may hold bindings in production and non-production namespaces\n',
    );
    expect((await ws.run(['grant', 'reader', 'ci-bot', 'shop'])).code).toBe(0);
    expect((await ws.run(['user', 'list'])).stdout).toMatch(/^ci-bot\tenabled\t\S+\tmixed-environments$/m);
    expect((await ws.run(['bindings'])).stdout).toContain('shop\treader\tci-bot\tmixed-environments\n');
    expect((await ws.run(['bindings'])).stdout).toContain('shop\treader\tops\n');
  });


  it('refuses unclear use', async () => {
    expect((await ws.run(['user', 'environments', 'ci-bot'])).stderr).toBe(usageError('give exactly one of --mixed or --separate'));
    expect((await ws.run(['user', 'environments', 'nobody', '--separate'])).stderr).toBe(usageError('no user "nobody"'));
  });
});

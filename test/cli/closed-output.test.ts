import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWorkspace, runCli, usageError } from './support/run-cli.js';

/**
 * Regression: `portcullis … | head` died with "Error: write EPIPE" and a stack trace once
 * head had read enough and closed the pipe.
 */
describe('output whose reader has gone', () => {
  let ws: Awaited<ReturnType<typeof cliWorkspace>>;

  beforeAll(async () => {
    ws = await cliWorkspace();
    for (const name of ['alice', 'bob', 'carol']) {
      expect((await ws.run(['user', 'add', name, '--password-stdin'], { stdin: 'a-long-enough-password\n' })).code).toBe(0);
    }
  });
  afterAll(() => ws.remove());

  it('is dropped quietly, and the command exits with its own status', async () => {
    expect(await ws.run(['user', 'list'], { closeStdout: true })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await runCli(['--help'], { closeStdout: true })).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('does not hide an error, which goes to standard error', async () => {
    const failed = await ws.run(['explain', 'nobody', 'team/app'], { closeStdout: true });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(usageError('no subject "nobody" (users by name, robots as robot+NAME, federation rules as rule+NAME, groups as group:NAME)'));
  });

  it('still lets the command finish its work', async () => {
    expect((await ws.run(['user', 'add', 'dave', '--password-stdin'], { stdin: 'a-long-enough-password\n', closeStdout: true })).code).toBe(0);
    expect((await ws.run(['user', 'list'])).stdout).toContain('dave');
  });
});

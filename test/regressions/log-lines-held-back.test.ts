import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../durability/support/server-process.js';

const waitFor = async (check: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return check();
};

/**
 * Regression: the log was written in 4 KiB batches only, so on a quiet server the `listening`
 * line (and the reason a sign-in was refused) stayed unwritten until enough other requests
 * followed. A small batch must be written out within about a second.
 */
describe('log lines of a quiet server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(() => server.dispose());

  it('writes out "listening" and a refused sign-in without further traffic', async () => {
    expect(await waitFor(() => server.output().includes('"msg":"listening"'), 10_000)).toBe(true);
    const refused = await fetch(`${server.url}/token?service=portcullis`, {
      headers: { Authorization: `Basic ${Buffer.from('nobody:wrong-password-123').toString('base64')}` },
    });
    expect(refused.status).toBe(401);
    expect(await waitFor(() => /"url":"\/token","status":401/.test(server.output()), 10_000)).toBe(true);
  });
});

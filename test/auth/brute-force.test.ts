import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

async function token(registry: TestRegistry, user: string, password: string): Promise<Response> {
  return fetch(`${registry.url}/token?service=portcullis`, { headers: { Authorization: basic(user, password) } });
}

describe('GET /token under password guessing', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry.close());

  it('answers 429 with Retry-After once an account has failed too often, even to the right password', async () => {
    for (let i = 0; i < 5; i++) expect((await token(registry, 'admin', `wrong-${i}`)).status).toBe(401);

    const blocked = await token(registry, 'admin', registry.adminPassword);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await blocked.json()).toEqual({
      errors: [{ code: 'TOOMANYREQUESTS', message: 'too many failed sign-ins; try again later' }],
      error: 'temporarily_unavailable',
      error_description: 'too many failed sign-ins; try again later',
    });

    await new Promise((resolve) => setTimeout(resolve, 1100 * Number(blocked.headers.get('retry-after'))));
    expect((await token(registry, 'admin', registry.adminPassword)).status).toBe(200);
  });

  it('treats an unknown name exactly like a known one', async () => {
    const answers: Array<[number, string | null]> = [];
    for (const name of ['ghost', 'admin']) {
      for (let i = 0; i < 5; i++) await token(registry, name, `nope-${i}`);
      const res = await token(registry, name, 'nope-last');
      answers.push([res.status, res.headers.get('retry-after')]);
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]![0]).toBe(429);
  });
});

describe('POST /token under password guessing', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ env: { PORTCULLIS_AUTH_THROTTLE_ADDRESS_FAILURES: '3' } });
  });
  afterAll(() => registry.close());

  it('slows an address that guesses across many names', async () => {
    const post = (username: string) =>
      fetch(`${registry.url}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', service: 'portcullis', client_id: 't', username, password: 'x' }),
      });
    for (const name of ['a', 'b', 'c']) expect((await post(name)).status).toBe(401);
    const res = await post('d');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';

describe('portcullis config check', () => {
  let dir: string;

  const file = async (name: string, text: string) => {
    const p = path.join(dir, name);
    await writeFile(p, text);

    return p;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-cli-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a PostgreSQL URL without its password (regression: config check showed it)', async () => {
    const res = await runCli(['config', 'check', '--config', await file('pg.yaml', 'database: postgres://reg:s3cret-pass@db.internal:5432/reg\n')]);
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain('s3cret-pass');
    expect(res.stdout).toContain('"database": "postgres://reg:redacted@db.internal:5432/reg"');
  });

  it('prints a webhook secret as redacted', async () => {
    const yaml = 'audit:\n  export:\n    - { name: siem, kind: webhook, url: "https://siem.example.test/in", secret: very-secret-hook-key }\n';
    const res = await runCli(['config', 'check', '--config', await file('hook.yaml', yaml)]);
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain('very-secret-hook-key');
    expect(res.stdout).toContain('"secret": "[redacted]"');
  });

  it('accepts a good file and prints the resolved configuration', async () => {
    const good = await file(
      'good.yaml',
      'listen: 127.0.0.1:5123\ndataDir: ./state\nuploads:\n  expireAfter: 3600\nauth:\n  service: reg.example\n',
    );
    const res = await runCli(['config', 'check', '--config', good]);

    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout.endsWith('configuration is valid\n')).toBe(true);
    const printed = JSON.parse(res.stdout.slice(0, res.stdout.lastIndexOf('}') + 1)) as Record<
      string,
      unknown
    >;
    expect(printed).toMatchObject({
      listen: '127.0.0.1:5123',
      dataDir: path.join(dir, 'state'),
      uploads: { expireAfter: 3600 },
      auth: { service: 'reg.example' },
    });
    // Blobs default to a place inside the data directory, resolved to an absolute path.
    const blobs = (printed.blobs as { path: string }).path;
    expect(
      blobs === path.join(dir, 'state') || blobs.startsWith(`${path.join(dir, 'state')}/`),
    ).toBe(true);
  });

  it('names every offending key of a bad file, and exits 1', async () => {
    const bad = await file(
      'bad.yaml',
      'listen: everywhere\nlisen: 1\nuploads:\n  expireAfter: -3\ndatabase: mysql://x\n',
    );
    const res = await runCli(['config', 'check', '--config', bad]);

    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^portcullis: invalid configuration:\n/);
    expect(res.stderr).toMatch(/^ {2}- listen: expected HOST:PORT, e\.g\. 127\.0\.0\.1:5000$/m);
    expect(res.stderr).toMatch(/^ {2}- uploads\.expireAfter: .*>0/m);
    expect(res.stderr).toMatch(/^ {2}- database: expected "sqlite" or a postgres:\/\/ URL$/m);
    expect(res.stderr).toMatch(/Unrecognized key: "lisen"/);
  });

  it('reports YAML that does not parse, and a file that cannot be read', async () => {
    const broken = await file('broken.yaml', 'listen: [\n');
    const res = await runCli(['config', 'check', '--config', broken]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${broken}: not valid YAML:`);

    const missing = path.join(dir, 'missing.yaml');
    const gone = await runCli(['config', 'check', '--config', missing]);
    expect(gone).toEqual({
      code: 1,
      stdout: '',
      stderr: `portcullis: invalid configuration:\n  - ${missing}: cannot read (ENOENT)\n`,
    });

    const list = await runCli([
      'config',
      'check',
      '--config',
      await file('list.yaml', '- a\n- b\n'),
    ]);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/the top level must be a mapping/);
  });

  it('a bad PORTCULLIS_LISTEN fails with a message naming the key and the variable', async () => {
    const cases: Array<[string, RegExp]> = [
      ['everywhere', /^ {2}- listen \(from PORTCULLIS_LISTEN\): expected HOST:PORT, e\.g\. 127\.0\.0\.1:5000$/m],
      ['127.0.0.1:99999', /^ {2}- listen \(from PORTCULLIS_LISTEN\): port must be at most 65535$/m],
      ['127.0.0.1', /^ {2}- listen \(from PORTCULLIS_LISTEN\): expected HOST:PORT/m],
    ];
    for (const [value, message] of cases) {
      const res = await runCli(['config', 'check'], { env: { PORTCULLIS_LISTEN: value } });

      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(message);
    }
  });

  it('refuses plain HTTP on a wildcard address unless TLS or a trusted proxy is declared', async () => {
    const refused = await runCli(['config', 'check'], {
      env: { PORTCULLIS_LISTEN: '0.0.0.0:5000' },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^ {2}- listen: refusing plain HTTP on 0\.0\.0\.0:5000/m);

    const proxied = await runCli(['config', 'check'], {
      env: { PORTCULLIS_LISTEN: '0.0.0.0:5000', PORTCULLIS_TRUSTED_PROXIES: '10.0.0.1' },
    });
    expect(proxied.code).toBe(0);
  });

  it('a PORTCULLIS_* number that is not a number names the variable', async () => {
    const res = await runCli(['config', 'check'], {
      env: { PORTCULLIS_UPLOADS_EXPIRE_AFTER: 'soon' },
    });

    expect(res).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'portcullis: invalid configuration:\n  - PORTCULLIS_UPLOADS_EXPIRE_AFTER: expected a number, got "soon"\n',
    });
  });

  it('environment variables override the file', async () => {
    const good = await file('override.yaml', 'listen: 127.0.0.1:5123\n');
    const res = await runCli(['config', 'check', '--config', good], {
      env: { PORTCULLIS_LISTEN: '127.0.0.1:6000' },
    });

    expect(res.code).toBe(0);
    expect(res.stdout).toContain('"listen": "127.0.0.1:6000"');
  });
});

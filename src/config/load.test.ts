import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-config-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives a working embedded default with no file and no environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.listen).toBe('127.0.0.1:5000');
    expect(config.database).toBe('sqlite');
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.blobs.path).toBe(path.resolve('data'));
    expect(config.auth.tokenTtl).toBe(300);
  });

  it('reads YAML and resolves relative paths against the file', () => {
    const config = loadConfig({ file: file('a.yaml', 'dataDir: ./d\nauth:\n  service: reg.example\n'), env: {} });
    expect(config.dataDir).toBe(path.join(dir, 'd'));
    expect(config.auth.service).toBe('reg.example');
  });

  it('keeps defaults and variables relative to the working directory, wherever the file is (regression: ./data moved next to the file)', () => {
    const config = loadConfig({ file: file('c.yaml', 'auth:\n  service: reg.example\n'), env: { PORTCULLIS_BLOBS_PATH: 'blobs-here' } });
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.blobs.path).toBe(path.resolve('blobs-here'));
  });

  it('lets PORTCULLIS_* variables override the file, and flags override both', () => {
    const config = loadConfig({
      file: file('b.yaml', 'listen: 127.0.0.1:6000\n'),
      env: { PORTCULLIS_LISTEN: '127.0.0.1:7000', PORTCULLIS_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.2', PORTCULLIS_METRICS_ENABLED: 'false' },
    });
    expect(config.listen).toBe('127.0.0.1:7000');
    expect(config.trustedProxies).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(config.metrics.enabled).toBe(false);
    expect(loadConfig({ env: { PORTCULLIS_LISTEN: '127.0.0.1:7000' }, overrides: { listen: '127.0.0.1:8000' } }).listen).toBe(
      '127.0.0.1:8000',
    );
  });

  it('names every bad key precisely', () => {
    expect(problems(() => loadConfig({ env: { PORTCULLIS_LISTEN: 'nowhere' } }))).toEqual([
      'listen (from PORTCULLIS_LISTEN): expected HOST:PORT, e.g. 127.0.0.1:5000',
    ]);
    expect(problems(() => loadConfig({ env: { PORTCULLIS_AUTH_TOKEN_TTL: 'soon' } }))).toEqual([
      'PORTCULLIS_AUTH_TOKEN_TTL: expected a number, got "soon"',
    ]);
    expect(problems(() => loadConfig({ file: file('c.yaml', 'auth:\n  tokenTtl: 99999\nbogus: 1\n'), env: {} }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^auth\.tokenTtl: /), expect.stringMatching(/bogus/)]),
    );
    expect(problems(() => loadConfig({ env: { PORTCULLIS_DATABASE: 'mysql://x' } }))).toEqual([
      'database (from PORTCULLIS_DATABASE): expected "sqlite" or a postgres:// URL',
    ]);
    expect(problems(() => loadConfig({ env: {}, overrides: { listen: 'x' } }))).toEqual([
      'listen: expected HOST:PORT, e.g. 127.0.0.1:5000',
    ]);
  });

  it('refuses unreadable and non-mapping files', () => {
    expect(problems(() => loadConfig({ file: path.join(dir, 'missing.yaml'), env: {} }))[0]).toMatch(/cannot read \(ENOENT\)/);
    expect(problems(() => loadConfig({ file: file('d.yaml', '- a\n- b\n'), env: {} }))[0]).toMatch(/top level must be a mapping/);
    expect(problems(() => loadConfig({ file: file('e.yaml', 'a: [\n'), env: {} }))[0]).toMatch(/not valid YAML/);
  });
});

describe('listen safety', () => {
  it('refuses plain HTTP on a non-loopback address', () => {
    expect(problems(() => loadConfig({ env: { PORTCULLIS_LISTEN: '0.0.0.0:5000' } }))[0]).toMatch(
      /^listen: refusing plain HTTP on 0\.0\.0\.0:5000/,
    );
    expect(problems(() => loadConfig({ env: { PORTCULLIS_LISTEN: '[::]:5000' } }))[0]).toMatch(/refusing plain HTTP/);
  });

  it('does not take a host name that starts with 127. for loopback', () => {
    expect(problems(() => loadConfig({ env: { PORTCULLIS_LISTEN: '127.example.com:5000' } }))[0]).toMatch(/refusing plain HTTP/);
  });

  it('names TLS files it cannot read before anything starts', () => {
    const env = { PORTCULLIS_LISTEN: '0.0.0.0:5000', PORTCULLIS_TLS_CERT: path.join(dir, 'no.crt'), PORTCULLIS_TLS_KEY: path.join(dir, 'no.key') };
    expect(problems(() => loadConfig({ env }))).toEqual([
      `tls.cert: cannot read ${path.join(dir, 'no.crt')} (ENOENT)`,
      `tls.key: cannot read ${path.join(dir, 'no.key')} (ENOENT)`,
    ]);
  });

  it('allows loopback, TLS, or a declared proxy', () => {
    expect(loadConfig({ env: { PORTCULLIS_LISTEN: '[::1]:5000' } }).listen).toBe('[::1]:5000');
    const tls = { PORTCULLIS_TLS_CERT: file('t.crt', 'x'), PORTCULLIS_TLS_KEY: file('t.key', 'x') };
    expect(loadConfig({ env: { PORTCULLIS_LISTEN: '0.0.0.0:5000', ...tls } }).tls).toBeDefined();
    expect(loadConfig({ env: { PORTCULLIS_LISTEN: '0.0.0.0:5000', PORTCULLIS_TRUSTED_PROXIES: '10.1.2.3' } }).trustedProxies).toEqual([
      '10.1.2.3',
    ]);
  });
});

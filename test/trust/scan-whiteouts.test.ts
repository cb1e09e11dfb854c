import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { applyWhiteouts, scanLayer, type LayerScan } from '../../src/trust/scan/index.js';
import { normalizePath, whiteoutOf } from '../../src/trust/scan/whiteouts.js';
import { randomText, tarOf, token } from './scan-helpers.js';

const secret = token('gh', 'p_', randomText(36, 300));

function layer(findingPaths: string[], whiteouts: string[] = []): LayerScan {
  return {
    findings: findingPaths.map((path) => ({ rule: 'github-token', description: 'd', path, fingerprint: 'f' })),
    whiteouts,
    bytes: 0,
    files: findingPaths.length,
    complete: true,
  };
}

describe('whiteout names', () => {
  it('normalises tar names', () => {
    expect(normalizePath('./etc//ssl/')).toBe('etc/ssl');
    expect(normalizePath('/root/.ssh/id_rsa')).toBe('root/.ssh/id_rsa');
  });

  it('reads explicit, opaque, bookkeeping and invalid whiteouts', () => {
    expect(whiteoutOf('etc/.wh.secret.env')).toBe('etc/secret.env');
    expect(whiteoutOf('.wh.app')).toBe('app');
    expect(whiteoutOf('var/cache/.wh..wh..opq')).toBe('var/cache/');
    expect(whiteoutOf('.wh..wh..opq')).toBe('/');
    expect(whiteoutOf('tmp/.wh..wh.plnk')).toBe('ignore');
    expect(whiteoutOf('tmp/.wh.')).toBe('ignore');
    expect(whiteoutOf('etc/passwd.wh.x')).toBeUndefined();
  });
});

describe('applyWhiteouts', () => {
  it('marks a finding deleted by a later layer and keeps it', () => {
    const result = applyWhiteouts([
      { digest: 'sha256:a', scan: layer(['etc/secret.env', 'etc/other']) },
      { digest: 'sha256:b', scan: layer([], ['etc/secret.env']) },
    ]);

    expect(result).toEqual([
      expect.objectContaining({ path: 'etc/secret.env', layer: 'sha256:a', hiddenBy: 'sha256:b' }),
      expect.not.objectContaining({ hiddenBy: expect.anything() }),
    ]);
  });

  it('hides everything under a whited-out directory or an opaque directory, from lower layers only', () => {
    const result = applyWhiteouts([
      { digest: 'L1', scan: layer(['app/conf/key.pem', 'srv/x', 'keep/me']) },
      { digest: 'L2', scan: layer(['app/new.pem'], ['app/']) },
      { digest: 'L3', scan: layer([], ['srv']) },
    ]);

    expect(result.map((f) => [f.layer, f.path, f.hiddenBy])).toEqual([
      ['L1', 'app/conf/key.pem', 'L2'],
      ['L1', 'srv/x', 'L3'],
      ['L1', 'keep/me', undefined],
      ['L2', 'app/new.pem', undefined],
    ]);
  });

  it('names the first later layer that hides a file', () => {
    const result = applyWhiteouts([
      { digest: 'L1', scan: layer(['a/b']) },
      { digest: 'L2', scan: layer([]) },
      { digest: 'L3', scan: layer([], ['a/b']) },
      { digest: 'L4', scan: layer([], ['/']) },
    ]);

    expect(result[0]!.hiddenBy).toBe('L3');
  });

  it('reports a secret that a later real layer deletes, as hidden', async () => {
    const lower = await scanLayer([gzipSync(tarOf([{ name: 'root/.env.local', content: `X=1\n${secret}\n` }]))]);
    const upper = await scanLayer([gzipSync(tarOf([{ name: 'root/.wh..env.local' }]))]);
    const opaque = await scanLayer([tarOf([{ name: 'root/.wh..wh..opq' }, { name: 'root/readme', content: 'hi' }])]);

    const withExplicit = applyWhiteouts([
      { digest: 'sha256:lower', scan: lower },
      { digest: 'sha256:upper', scan: upper },
    ]);
    const withOpaque = applyWhiteouts([
      { digest: 'sha256:lower', scan: lower },
      { digest: 'sha256:opaque', scan: opaque },
    ]);

    expect(withExplicit).toMatchObject([{ path: 'root/.env.local', line: 2, layer: 'sha256:lower', hiddenBy: 'sha256:upper' }]);
    expect(withOpaque).toMatchObject([{ path: 'root/.env.local', hiddenBy: 'sha256:opaque' }]);
  });
});

import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { compress as zstdCompress } from 'zstd-napi';
import { detectCompression, scanLayer } from '../../src/trust/scan/index.js';
import { expectedFingerprint, pemKey, randomText, tarOf, token } from './scan-helpers.js';

const ghToken = token('gh', 'p_', randomText(36, 100));

/** Yields `data` in pieces of `size` bytes, as a slow network would. */
async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

const scratch = mkdtempSync(path.join(tmpdir(), 'scan-layer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('scanLayer: compression', () => {
  const tar = tarOf([
    { name: 'app/', type: '5' },
    { name: 'app/main.js', content: `const t = "${ghToken}";\n` },
  ]);
  const variants: [string, Buffer][] = [
    ['none', tar],
    ['gzip', gzipSync(tar)],
    ['zstd', zstdCompress(tar)],
  ];

  for (const [compression, blob] of variants) {
    it(`finds the secret in a ${compression} layer, fed in 7-byte pieces`, async () => {
      expect(detectCompression(blob)).toBe(compression);

      const result = await scanLayer(pieces(blob, 7));

      expect(result).toMatchObject({ complete: true, files: 1, bytes: tar.length, whiteouts: [] });
      expect(result.findings).toEqual([
        {
          rule: 'github-token',
          description: expect.any(String),
          path: 'app/main.js',
          line: 1,
          fingerprint: expectedFingerprint('github-token', ghToken),
        },
      ]);
    });
  }

  it('reads a Readable stream', async () => {
    const file = path.join(scratch, 'layer.tar.gz');
    writeFileSync(file, gzipSync(tar));

    const result = await scanLayer(createReadStream(file));

    expect(result.findings.map((f) => f.path)).toEqual(['app/main.js']);
  });

  it('reads concatenated gzip members and zstd frames', async () => {
    const half = tar.length / 2;
    for (const blob of [
      Buffer.concat([gzipSync(tar.subarray(0, half)), gzipSync(tar.subarray(half))]),
      Buffer.concat([zstdCompress(tar.subarray(0, half)), zstdCompress(tar.subarray(half))]),
    ]) {
      const result = await scanLayer([blob]);
      expect(result).toMatchObject({ complete: true, bytes: tar.length });
      expect(result.findings).toHaveLength(1);
    }
  });
});

describe('scanLayer: tar formats', () => {
  const deep = `${'very-long-directory-name/'.repeat(6)}config/credentials.txt`;

  it('uses PAX path and GNU long names written by hand', async () => {
    const result = await scanLayer([
      tarOf([
        { name: deep, content: ghToken, longName: 'pax' },
        { name: `${deep}.bak`, content: ghToken, longName: 'gnu' },
      ]),
    ]);

    expect(result.findings.map((f) => f.path)).toEqual([deep, `${deep}.bak`]);
  });

  for (const format of ['pax', 'gnu', 'ustar']) {
    it(`reads a long path written by GNU tar --format=${format}`, () => {
      const dir = mkdtempSync(path.join(scratch, `${format}-`));
      const relative = format === 'ustar' ? `${'d'.repeat(60)}/${'e'.repeat(60)}/secret.txt` : deep;
      mkdirSync(path.join(dir, path.dirname(relative)), { recursive: true });
      writeFileSync(path.join(dir, relative), `x\n${ghToken}\n`);
      const blob = execFileSync('tar', [`--format=${format}`, '-cf', '-', '-C', dir, '.']);

      return scanLayer([blob]).then((result) => {
        expect(result.complete).toBe(true);
        expect(result.findings).toMatchObject([{ path: relative, line: 2 }]);
      });
    });
  }

  it('skips links, directories and devices but scans empty and ordinary files', async () => {
    const result = await scanLayer([
      tarOf([
        { name: 'etc/', type: '5' },
        { name: 'etc/link', type: '2', linkname: ghToken.slice(0, 90) },
        { name: 'etc/hard', type: '1', linkname: 'etc/real' },
        { name: 'dev/null', type: '3' },
        { name: 'etc/empty', content: '' },
        { name: './etc/real', content: ghToken },
      ]),
    ]);

    expect(result).toMatchObject({ files: 2, complete: true });
    expect(result.findings.map((f) => f.path)).toEqual(['etc/real']);
  });

  it('records whiteouts without scanning them', async () => {
    const result = await scanLayer([
      tarOf([
        { name: 'etc/.wh.secret.env', content: ghToken },
        { name: 'var/cache/.wh..wh..opq' },
        { name: '.wh..wh..opq' },
        { name: 'tmp/.wh..wh.plnk' },
        { name: 'tmp/.wh.' },
      ]),
    ]);

    expect(result.whiteouts).toEqual(['etc/secret.env', 'var/cache/', '/']);
    expect(result).toMatchObject({ files: 0, findings: [] });
  });
});

describe('scanLayer: secrets across boundaries', () => {
  const MiB = 1024 * 1024;

  for (const offset of [-20, -1, 0, 5]) {
    it(`finds a token straddling the 1 MiB block boundary (start ${offset} from it)`, async () => {
      const lines = 'filler line\n'.repeat(Math.floor((MiB + offset) / 12));
      const head = lines + ' '.repeat(MiB + offset - lines.length);
      const content = `${head}${ghToken}\n${'tail\n'.repeat(300_000)}`;

      const result = await scanLayer(pieces(tarOf([{ name: 'big.txt', content }]), 64 * 1024));

      expect(result.findings).toMatchObject([
        { rule: 'github-token', line: lines.length / 12 + 1, fingerprint: expectedFingerprint('github-token', ghToken) },
      ]);
    });
  }

  it('finds a private key block straddling the boundary', async () => {
    const key = pemKey('OPENSSH ', 101);
    const content = `${'z'.repeat(MiB - 100)}\n${key.text}`;

    const result = await scanLayer([gzipSync(tarOf([{ name: 'k', content }]))]);

    expect(result.findings).toMatchObject([{ rule: 'private-key', line: 2, fingerprint: expectedFingerprint('private-key', key.body) }]);
  });
});

describe('scanLayer: caps and broken blobs', () => {
  it('stops a decompression bomb at the layer byte cap', async () => {
    const bomb = gzipSync(tarOf([{ name: 'zeros', content: Buffer.alloc(32 * 1024 * 1024) }]), { level: 1 });

    const result = await scanLayer([bomb], { maxLayerBytes: 4 * 1024 * 1024 });

    expect(result.complete).toBe(false);
    expect(result.problem).toMatch(/expands past 4194304 bytes/);
    expect(result.bytes).toBeLessThan(8 * 1024 * 1024);
  });

  it('stops a zstd bomb at the compression ratio cap', async () => {
    const bomb = zstdCompress(tarOf([{ name: 'zeros', content: Buffer.alloc(32 * 1024 * 1024) }]));

    const result = await scanLayer([bomb], { maxRatio: 10 });

    expect(result.complete).toBe(false);
    expect(result.problem).toMatch(/more than 10 times/);
  });

  it('keeps the findings seen before a cap stops the scan', async () => {
    const result = await scanLayer(
      [tarOf([{ name: 'a', content: ghToken }, { name: 'b' }, { name: 'c' }, { name: 'd' }])],
      { maxEntries: 2 },
    );

    expect(result).toMatchObject({ complete: false, problem: 'layer has more than 2 entries' });
    expect(result.findings).toHaveLength(1);
  });

  it('stops at the findings cap', async () => {
    const many = Array.from({ length: 5 }, (_, i) => token('gh', 'p_', randomText(36, 200 + i))).join('\n');

    const result = await scanLayer([tarOf([{ name: 'a', content: many }, { name: 'b', content: many }])], { maxFindings: 3 });

    expect(result).toMatchObject({ complete: false, problem: 'layer has more than 3 findings' });
  });

  it('scans only the first maxFileBytes of a file and reads past the rest', async () => {
    const result = await scanLayer(
      [tarOf([{ name: 'big', content: `${'a'.repeat(1000)}${ghToken}` }, { name: 'next', content: ghToken }])],
      { maxFileBytes: 500 },
    );

    expect(result.complete).toBe(true);
    expect(result.findings.map((f) => f.path)).toEqual(['next']);
  });

  it('reports a corrupt gzip stream as a problem', async () => {
    const good = gzipSync(tarOf([{ name: 'a', content: 'hello' }]));
    const corrupt = Buffer.concat([good.subarray(0, 10), Buffer.from(randomText(200, 102))]);

    const result = await scanLayer([corrupt]);

    expect(result.complete).toBe(false);
    expect(result.problem).toMatch(/^corrupt gzip stream: /);
  });

  it('reports a truncated gzip stream as a problem', async () => {
    const good = gzipSync(tarOf([{ name: 'a', content: randomText(5000, 103) }]));

    const result = await scanLayer([good.subarray(0, good.length - 100)]);

    expect(result).toMatchObject({ complete: false, problem: expect.stringMatching(/^corrupt gzip stream: /) });
  });

  it('reports a corrupt zstd stream as a problem', async () => {
    const good = zstdCompress(tarOf([{ name: 'a', content: randomText(5000, 104) }]));
    const corrupt = Buffer.concat([good.subarray(0, 8), Buffer.alloc(64, 0xff)]);

    const result = await scanLayer([corrupt]);

    expect(result).toMatchObject({ complete: false, problem: expect.stringMatching(/^corrupt zstd stream: /) });
  });

  it('reports a tar cut inside an entry', async () => {
    const cut = await scanLayer([tarOf([{ name: 'a', content: randomText(3000, 106) }]).subarray(0, 1500)]);

    expect(cut).toMatchObject({ complete: false, problem: 'tar archive is truncated' });
  });

  it('scans content that is not a tar archive whole (regression: a key pushed as a non-tar layer passed a block namespace)', async () => {
    const key = pemKey('RSA ', 21);
    for (const blob of [Buffer.from(randomText(2048, 105)), Buffer.from(`${randomText(700, 107)}\n${key.text}`), gzipSync(Buffer.from(key.text))]) {
      const result = await scanLayer([blob.subarray(0, 100), blob.subarray(100)]);
      expect(result.complete).toBe(true);
      expect(result.findings.map((f) => [f.rule, f.path])).toEqual(blob.includes('PRIVATE') || blob[0] === 0x1f ? [['private-key', '(blob)']] : []);
    }
  });

  it('scans what follows the end-of-archive blocks (regression: a secret behind an early end marker went unseen)', async () => {
    const key = pemKey('', 22);
    const hidden = Buffer.concat([tarOf([{ name: 'a', content: 'harmless' }]), Buffer.from(key.text)]);
    const result = await scanLayer([gzipSync(hidden)]);

    expect(result.findings.map((f) => [f.rule, f.path])).toEqual([['private-key', '(after the end of the archive)']]);
  });

  it('accepts an empty layer in every form', async () => {
    for (const blob of [Buffer.alloc(0), Buffer.alloc(1024), gzipSync(Buffer.alloc(1024)), zstdCompress(Buffer.alloc(1024))]) {
      const result = await scanLayer([blob]);
      expect(result).toEqual({ findings: [], whiteouts: [], bytes: blob.length === 0 ? 0 : 1024, files: 0, complete: true });
    }
  });

  it('throws the reader’s own error when the input fails', async () => {
    const failure = new Error('connection reset');
    async function* failing(): AsyncGenerator<Buffer> {
      yield gzipSync(tarOf([{ name: 'a', content: 'x' }])).subarray(0, 20);
      throw failure;
    }

    await expect(scanLayer(failing())).rejects.toBe(failure);
  });
});

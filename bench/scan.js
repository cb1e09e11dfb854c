// Secret-scanner benchmark: builds a ≈ 500 MB layer (source text, binaries, random data and a
// few planted secrets) as plain tar, tar+gzip and tar+zstd, then times decompression alone and
// scanLayer over each, on this process's one JavaScript thread.
//
//   node bench/scan.js [--mb 500] [--runs 3] [--keep DIR]
//
// Needs `npm run build` first (it uses the built scanner). Prints a Markdown table and JSON.
import { createReadStream, createWriteStream, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { CompressStream } from 'zstd-napi';
import { inflate } from '../dist/src/trust/scan/decompress.js';
import { scanLayer } from '../dist/src/trust/scan/index.js';
import { TarReader } from '../dist/src/trust/scan/tar-reader.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '500' }, runs: { type: 'string', default: '3' }, keep: { type: 'string' } } });
const TARGET = Number(values.mb) * 1e6;
const RUNS = Number(values.runs);
const REPO = path.resolve(import.meta.dirname, '..');
const dir = values.keep ?? mkdtempSync(path.join(tmpdir(), 'portcullis-scan-bench-'));
const log = (msg) => process.stderr.write(`${msg}\n`);

// Deterministic pseudo-random bytes (mulberry32), so every run builds the same layer.
let seed = 7;
function random(n) {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const v = (t ^ (t >>> 14)) >>> 0;
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
  }
  return out;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const text = (n) => [...random(n)].map((b) => ALNUM[b % ALNUM.length]).join('');

function walk(root, keep, limit) {
  const found = [];
  const visit = (d) => {
    let entries;
    try { entries = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (found.length >= limit) return;
      const full = path.join(d, e.name);
      if (e.isDirectory()) visit(full);
      else if (e.isFile() && keep(e.name)) found.push(full);
    }
  };
  visit(root);
  return found;
}

function header(name, size) {
  const b = Buffer.alloc(512);
  b.write(name.slice(0, 100), 0);
  b.write('0000644\0', 100); b.write('0000000\0', 108); b.write('0000000\0', 116);
  b.write(size.toString(8).padStart(11, '0') + '\0', 124);
  b.write('00000000000\0', 136); b.write('0', 156); b.write('ustar\0', 257); b.write('00', 263);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return b;
}

/** Writes the layer tar: text sources (≈ 55 %), real binaries (≈ 20 %), random data (≈ 25 %), 12 secrets. */
function buildTar(file) {
  const fd = openSync(file, 'w');
  let written = 0;
  let files = 0;
  const add = (name, data) => {
    writeSync(fd, header(name, data.length));
    writeSync(fd, data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) writeSync(fd, Buffer.alloc(pad));
    written += 512 + data.length + pad;
    files++;
  };
  const sources = walk(path.join(REPO, 'node_modules'), (n) => /\.(js|cjs|mjs|ts|json|md|map)$/.test(n), 1e6);
  const binaries = ['/usr/lib/x86_64-linux-gnu', '/usr/bin', '/usr/lib'].flatMap((d) => walk(d, (n) => /\.so(\.|$)|^[a-z]/.test(n), 4000));
  const secrets = [
    `-----BEGIN ${'OPENSSH'} PRIVATE KEY-----\n${text(1600).match(/.{1,70}/g).join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    `aws_access_key_id = AK${'IA'}${text(16).toUpperCase().replace(/[018-9]/g, 'Q')}\naws_secret_access_key = aZ9${text(37)}\n`,
    `GITHUB_TOKEN=gh${'p_'}${text(36)}\n`,
    `{"auths":{"r.example.com":{"auth":"${Buffer.from(`ci:${text(20)}`).toString('base64')}"}}}`,
    `//registry.npmjs.org/:_authToken=np${'m_'}${text(36)}\n`,
    `DB_PASSWORD=${text(20)}\n`,
  ];
  if (sources.length === 0) throw new Error('no text sources under node_modules');
  for (let round = 0; written < TARGET * 0.55; round++) {
    for (const [i, src] of sources.entries()) {
      if (written >= TARGET * 0.55) break;
      try { add(`r${round}/src/${i}-${path.basename(src)}`, readFileSync(src)); } catch { /* unreadable */ }
    }
  }
  for (const [i, bin] of binaries.entries()) {
    if (written >= TARGET * 0.75) break;
    try { const data = readFileSync(bin); if (data.length > 64) add(`usr/lib/${i}-${path.basename(bin)}`, data); } catch { /* unreadable */ }
  }
  secrets.forEach((s, i) => { add(`etc/secrets/a${i}.env`, Buffer.from(s)); add(`root/b${i}/.env`, Buffer.from(s)); });
  for (let i = 0; written < TARGET; i++) add(`var/data/blob${i}.bin`, random(1 + (i * 7919) % (8 << 20)));
  writeSync(fd, Buffer.alloc(1024));
  closeSync(fd);
  return { bytes: written + 1024, files };
}

async function compress(src, dst, stream) {
  await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), stream, createWriteStream(dst));
}

const read = (file) => createReadStream(file, { highWaterMark: 1 << 20 });

async function timed(fn) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const wall = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1e6, out };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

log(`building a ${values.mb} MB layer in ${dir}`);
const tarFile = path.join(dir, 'layer.tar');
const built = buildTar(tarFile);
await compress(tarFile, `${tarFile}.gz`, zlib.createGzip({ level: 6 }));
await compress(tarFile, `${tarFile}.zst`, new CompressStream({ compressionLevel: 3 }));
const layers = [
  ['tar', tarFile],
  ['tar+gzip', `${tarFile}.gz`],
  ['tar+zstd', `${tarFile}.zst`],
];
log(`layer: ${(built.bytes / 1e6).toFixed(0)} MB decompressed, ${built.files} files; gzip ${(statSync(`${tarFile}.gz`).size / 1e6).toFixed(0)} MB, zstd ${(statSync(`${tarFile}.zst`).size / 1e6).toFixed(0)} MB`);

const results = [];
for (const [name, file] of layers) {
  const decompress = [];
  const walkOnly = [];
  const scan = [];
  let findings = null;
  for (let run = 0; run < RUNS; run++) {
    decompress.push(await timed(async () => {
      let n = 0;
      for await (const chunk of (await inflate(read(file))).chunks) n += chunk.length;
      return n;
    }));
    walkOnly.push(await timed(async () => {
      let n = 0;
      const tar = new TarReader({ entry: () => true, data: (c) => { n += c.length; }, end: () => {} });
      for await (const chunk of (await inflate(read(file))).chunks) tar.push(chunk);
      return n;
    }));
    const s = await timed(() => scanLayer(read(file)));
    scan.push(s);
    findings = s.out.findings.length;
    if (!s.out.complete) throw new Error(`scan incomplete: ${s.out.problem}`);
  }
  const mbps = (xs) => built.bytes / 1e6 / median(xs.map((x) => x.wall));
  const cpuShare = (xs) => median(xs.map((x) => x.cpu / x.wall));
  const row = {
    layer: name,
    compressedMB: statSync(file).size / 1e6,
    decompressMBps: mbps(decompress),
    walkMBps: mbps(walkOnly),
    scanMBps: mbps(scan),
    scanCpuPerWall: cpuShare(scan),
    scanMBperCpuSecond: built.bytes / 1e6 / median(scan.map((x) => x.cpu)),
    findings,
  };
  results.push(row);
  log(`${name}: decompress ${row.decompressMBps.toFixed(0)} MB/s, tar walk ${row.walkMBps.toFixed(0)} MB/s, scan ${row.scanMBps.toFixed(0)} MB/s (${row.scanMBperCpuSecond.toFixed(0)} MB per CPU-s), ${findings} findings`);
}

const f = (x) => x.toFixed(0);
console.log(`| layer | size | decompress only | decompress + tar walk | scanLayer | scanLayer per CPU-second | CPU use during scan | findings |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const r of results) {
  console.log(`| ${r.layer} | ${f(r.compressedMB)} MB | ${f(r.decompressMBps)} MB/s | ${f(r.walkMBps)} MB/s | **${f(r.scanMBps)} MB/s** | ${f(r.scanMBperCpuSecond)} MB/s | ${r.scanCpuPerWall.toFixed(2)} cores | ${r.findings} |`);
}
console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, decompressedBytes: built.bytes, files: built.files, runs: RUNS, results }));
if (!values.keep) rmSync(dir, { recursive: true, force: true });

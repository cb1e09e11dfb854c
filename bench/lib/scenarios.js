// The benchmark scenarios. Each returns { value, ...details }; `unit` and `better`
// say how to read the value; `goal` is Portcullis's target (see report.js).
import { performance } from 'node:perf_hooks';
import { MiB, RandomBlob } from './blobsrc.js';
import { cpuDelta } from './cpu.js';
import { runLoad } from './load.js';
import { OCI_MANIFEST, pullScope } from './registry.js';
import { startRssSampler } from './rss.js';

const MANIFEST_ACCEPT = [
  OCI_MANIFEST, 'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export const SIZES = {
  full: { blobMiB: 256, chunkMiB: 8, bigMiB: 1024, repeat: 3, loadMs: 10000, loadMax: 20000, smallImages: 50, smallLayerKiB: 4, tags: 40 },
  quick: { blobMiB: 16, chunkMiB: 8, bigMiB: 128, repeat: 1, loadMs: 3000, loadMax: 3000, smallImages: 10, smallLayerKiB: 4, tags: 40 },
};

const seconds = (t0) => (performance.now() - t0) / 1000;
const mibPerSec = (bytes, s) => bytes / MiB / s;

/** Time fn(), and count the registry's CPU seconds over exactly that interval. */
async function timed(ctx, fn) {
  const c0 = ctx.cpuSnap();
  const t0 = performance.now();
  const out = await fn();
  const s = seconds(t0);
  return { out, seconds: s, registrySeconds: cpuDelta(c0, ctx.cpuSnap())?.registrySeconds ?? 0 };
}

/** Run a timed transfer `repeat` times; report the median throughput and every run. */
async function repeated(ctx, once) {
  const runs = [];
  for (let i = 0; i < ctx.sizes.repeat; i++) runs.push(await once(i));
  const rates = runs.map((r) => mibPerSec(r.bytes, r.seconds)).sort((a, b) => a - b);
  const value = rates[Math.floor(rates.length / 2)];
  const mib = (runs[0].bytes / MiB).toFixed(0);
  const each = runs.map((r) => `${r.seconds.toFixed(2)} s`).join(', ');
  const work = runs.reduce((a, r) => a + r.bytes, 0) / MiB;
  const registrySeconds = runs.reduce((a, r) => a + r.registrySeconds, 0);
  return { value, runs: rates, work, registrySeconds, note: `${mib} MiB per run, ${runs.length} run(s): ${each}; median of ${rates.map((x) => x.toFixed(0)).join('/')} MiB/s` };
}

/** Untimed: make sure a pullable blob exists (normally the one scenario 1 pushed). */
async function ensurePullBlob(ctx) {
  if (ctx.pullBlob) return ctx.pullBlob;
  const blob = new RandomBlob(ctx.sizes.blobMiB * MiB);
  blob.computeDigest();
  await ctx.client.pushMonolithic('bench/blobs', { digest: blob.digest, size: blob.size, body: blob.stream() });
  ctx.pullBlob = { repo: 'bench/blobs', digest: blob.digest, size: blob.size };
  return ctx.pullBlob;
}

/** Untimed: one small image in bench/manifest tagged latest plus `tags` more tags. */
async function ensureManifestRepo(ctx) {
  if (ctx.manifestRepo) return ctx.manifestRepo;
  const repo = 'bench/manifest';
  const { manifest, digest, size } = await ctx.client.pushSmallImage(repo, 'latest', 2048);
  for (let i = 0; i < ctx.sizes.tags; i++) await ctx.client.putManifest(repo, `v${String(i).padStart(3, '0')}`, manifest);
  ctx.manifestRepo = { repo, digest, size };
  return ctx.manifestRepo;
}

/** bodyCheck(manifestSize) → exact body length expected, -1 for "non-empty", undefined for none. */
function loadScenario(id, title, method, pathFor, headers = {}, bodyCheck = () => undefined) {
  return {
    id, title, unit: 'req/s', better: 'higher', goal: { ratio: 3 },
    async run(ctx) {
      const { repo, size } = await ensureManifestRepo(ctx);
      const r = await runLoad({
        expectBytes: bodyCheck(size),
        auth: ctx.client.auth, scope: pullScope(repo), method, url: `${ctx.client.base}${pathFor(repo)}`,
        headers, concurrency: ctx.concurrency, cpuSnap: ctx.cpuSnap, durationMs: ctx.sizes.loadMs, maxRequests: ctx.sizes.loadMax,
      });
      if (r.errors > 0) {
        const e = new Error(`${r.errors} of ${r.requests} requests failed; first failure: ${JSON.stringify(r.firstError)}`);
        e.detail = r.firstError;
        throw e;
      }
      return {
        value: r.rate, work: r.requests - r.errors, registrySeconds: r.registrySeconds, requests: r.requests, seconds: r.seconds, p50ms: r.p50ms, p99ms: r.p99ms,
        clientCpuPct: r.clientCpuPct, note: `${r.requests} req in ${r.seconds.toFixed(1)} s, p50 ${r.p50ms.toFixed(1)} ms, p99 ${r.p99ms.toFixed(1)} ms`,
      };
    },
  };
}

export const SCENARIOS = [
  {
    id: 'push-mono', title: 'blob push, monolithic (POST + one PUT)', unit: 'MiB/s', better: 'higher', goal: { ratio: 1 },
    run: (ctx) => repeated(ctx, async () => {
      const blob = new RandomBlob(ctx.sizes.blobMiB * MiB);
      blob.computeDigest();
      const t = await timed(ctx, () => ctx.client.pushMonolithic('bench/blobs', { digest: blob.digest, size: blob.size, body: blob.stream() }));
      ctx.pullBlob = { repo: 'bench/blobs', digest: blob.digest, size: blob.size };
      return { bytes: blob.size, ...t };
    }),
  },
  {
    id: 'push-chunked', title: `blob push, chunked PATCH`, unit: 'MiB/s', better: 'higher', goal: { ratio: 1 },
    run: (ctx) => repeated(ctx, async () => {
      const blob = new RandomBlob(ctx.sizes.blobMiB * MiB);
      blob.computeDigest();
      const t = await timed(ctx, () => ctx.client.pushChunked('bench/chunked', blob, ctx.sizes.chunkMiB * MiB));
      return { bytes: blob.size, ...t };
    }),
  },
  {
    id: 'pull-1', title: 'blob pull, 1 stream (sha256 verified)', unit: 'MiB/s', better: 'higher', goal: { ratio: 1 },
    async run(ctx) {
      const { repo, digest, size } = await ensurePullBlob(ctx);
      return repeated(ctx, async () => {
        const t = await timed(ctx, () => ctx.client.pullBlob(repo, digest));
        if (t.out !== size) throw new Error(`pulled ${t.out} bytes, expected ${size}`);
        return { bytes: t.out, ...t };
      });
    },
  },
  {
    id: 'pull-8', title: 'blob pull, 8 parallel streams (aggregate)', unit: 'MiB/s', better: 'higher', goal: { ratio: 1 },
    async run(ctx) {
      const { repo, digest } = await ensurePullBlob(ctx);
      return repeated(ctx, async () => {
        const t = await timed(ctx, () => Promise.all(Array.from({ length: 8 }, () => ctx.client.pullBlob(repo, digest))));
        return { bytes: t.out.reduce((a, b) => a + b, 0), ...t };
      });
    },
  },
  loadScenario('manifest-get', 'manifest GET by tag, 64 connections', 'GET',
    (repo) => `/v2/${repo}/manifests/latest`, { accept: MANIFEST_ACCEPT }, (size) => size),
  loadScenario('manifest-head', 'manifest HEAD by tag, 64 connections', 'HEAD',
    (repo) => `/v2/${repo}/manifests/latest`, { accept: MANIFEST_ACCEPT }),
  loadScenario('tags-list', 'tag list GET, 64 connections', 'GET', (repo) => `/v2/${repo}/tags/list`, {}, () => -1),
  {
    id: 'small-images', title: 'small image push incl. token per repo', unit: 'images/s', better: 'higher', goal: { ratio: 2 },
    async run(ctx) {
      const n = ctx.sizes.smallImages;
      const fetches0 = ctx.client.auth.fetches;
      let next = 0;
      const t = await timed(ctx, () => Promise.all(Array.from({ length: Math.min(ctx.smallConcurrency, n) }, async () => {
        while (next < n) {
          const i = next++;
          await ctx.client.pushSmallImage(`bench/small-${i}`, 'latest', ctx.sizes.smallLayerKiB * 1024);
        }
      })));
      const s = t.seconds;
      const tokens = ctx.client.auth.fetches - fetches0;
      return { value: n / s, work: n, seconds: s, registrySeconds: t.registrySeconds, tokens, note: `${n} images (${ctx.smallConcurrency} at a time), ${tokens} token fetches, ${s.toFixed(2)} s` };
    },
  },
  {
    id: 'rss-1g', title: 'peak registry RSS while pushing a big blob', unit: 'MiB', better: 'lower', goal: { max: 200 },
    async run(ctx) {
      if (!ctx.pid) return { skipped: 'no registry PID (pass --pid in --url mode)' };
      const blob = new RandomBlob(ctx.sizes.bigMiB * MiB);
      blob.computeDigest();
      const sampler = startRssSampler(ctx.pid, 100);
      const t0 = performance.now();
      try {
        await ctx.client.pushMonolithic('bench/big', { digest: blob.digest, size: blob.size, body: blob.stream() });
      } finally {
        ctx.rss = sampler.stop();
      }
      const s = seconds(t0);
      const { peakMiB, baselineMiB, samples } = ctx.rss;
      return {
        value: peakMiB, baselineMiB, samples, pushMiBps: mibPerSec(blob.size, s),
        note: `${ctx.sizes.bigMiB} MiB pushed at ${mibPerSec(blob.size, s).toFixed(0)} MiB/s; RSS before ${baselineMiB.toFixed(0)} MiB, ${samples} samples`,
      };
    },
  },
];

#!/usr/bin/env node
// What secret scanning costs in push throughput: pushes the same realistic images (tar+gzip
// layers of source text, binaries and incompressible data) to Portcullis with
// trust.secretScan.mode off, to Portcullis with mode warn, and to docker-registry, in
// rotating order, each round on a fresh server. See bench/README.md.
//   node bench/scan-push.js [--quick] [--images 8] [--runs 3] [--concurrency 2] [--scan-workers N] [--out FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TokenAuth } from './lib/auth.js';
import { cpuDelta, cpuSnapshot } from './lib/cpu.js';
import { agent, request } from './lib/http.js';
import { buildImages, plantedSecret } from './lib/layers.js';
import { cleanupAll, installCleanupHandlers, logTail, run } from './lib/proc.js';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, RegistryClient, pushScope } from './lib/registry.js';
import { PORTCULLIS_BIN, startPortcullis } from './portcullis.js';
import { startReference } from './reference.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GOAL = 0.7; // scanning-on throughput at least 70 % of scanning-off

const USAGE = `usage: node bench/scan-push.js [options]
  --quick             3 small images (about 6 MB of tar each) instead of 8 of about 50 MB
  --images N          images per round (default 8, quick 3)
  --runs N            rounds; each target is pushed once per round on a fresh server (default 3)
  --concurrency N     images pushed at once; an image's blobs go up in parallel (default 2)
  --scan-workers N    trust.secretScan.workers for both Portcullis targets (default: the server's,
                      cores - 1 and at least 1; 0 scans on the main thread)
  --out FILE          also write every figure as JSON
  --cpu-prof DIR      run the Portcullis servers under --cpu-prof, profiles in DIR (slows them)`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' }, images: { type: 'string' }, runs: { type: 'string' },
      concurrency: { type: 'string' }, out: { type: 'string' }, 'cpu-prof': { type: 'string' },
      'scan-workers': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(USAGE); process.exit(0); }
  const o = {
    quick: Boolean(values.quick),
    images: Number(values.images ?? (values.quick ? 3 : 8)),
    runs: Number(values.runs ?? 3),
    concurrency: Number(values.concurrency ?? 2),
    out: values.out,
    cpuProf: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : null,
    scanWorkers: values['scan-workers'] === undefined ? null : Number(values['scan-workers']),
  };
  if (o.scanWorkers !== null && (!Number.isInteger(o.scanWorkers) || o.scanWorkers < 0)) {
    throw new Error(`--scan-workers must be a whole number ≥ 0\n${USAGE}`);
  }
  o.scale = o.quick ? 0.125 : 1;
  for (const k of ['images', 'runs', 'concurrency']) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`--${k} must be a whole number ≥ 1\n${USAGE}`);
  }

  return o;
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const portcullisConfig = (mode, workers) =>
  `trust:\n  secretScan:\n    mode: "${mode}"\n${workers === null ? '' : `    workers: ${workers}\n`}`;

/** The three targets; `scanning` says whether the secret found in image 0 must be recorded. */
function targets(o) {
  const nodeArgs = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] : [];
  const portcullis = (mode) => () => startPortcullis({ configYaml: portcullisConfig(mode, o.scanWorkers), nodeArgs });

  return [
    { id: 'portcullis-off', scanning: false, start: portcullis('off') },
    { id: 'portcullis-warn', scanning: true, start: portcullis('warn') },
    { id: 'portcullis-quarantine', scanning: true, start: portcullis('quarantine') },
    { id: 'docker-registry', scanning: null, start: () => startReference() },
  ];
}

/** Pushes one image the way docker does: blobs in parallel (HEAD, POST, PUT), then the manifest. */
async function pushImage(client, repo, image) {
  const blobs = [...image.layers, image.config];
  await Promise.all(blobs.map(async (b) => {
    if (await client.headBlob(repo, b.digest)) return;
    await client.pushMonolithic(repo, { digest: b.digest, size: b.size, body: b.blob });
  }));
  const manifest = {
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: image.config.digest, size: image.config.size },
    layers: image.layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
  };
  const t0 = performance.now();
  await client.putManifest(repo, 'latest', manifest);

  return performance.now() - t0;
}

/** Prometheus text → { name{labels}: value } for the series this bench reads. */
async function scrapeMetrics(url) {
  const r = await request('GET', `${url}/metrics`);
  const out = {};
  if (r.status !== 200) return out;
  const wanted = /^(portcullis_(?:nodejs_eventloop_lag_\w+|http_request_duration_seconds_(?:sum|count)))(\{[^}]*\})? (\S+)$/;
  for (const line of r.body.toString('utf8').split('\n')) {
    const m = wanted.exec(line);
    if (m) out[m[1] + (m[2] ?? '')] = Number(m[3]);
  }

  return out;
}

/** Mean duration (ms) of PUT requests by route between two scrapes. */
function putDurations(before, after) {
  const means = {};
  const delta = (key) => (after[key] ?? 0) - (before[key] ?? 0);
  for (const [key, sum] of Object.entries(after)) {
    const m = /^portcullis_http_request_duration_seconds_sum(\{.*method="PUT".*\})$/.exec(key);
    if (!m) continue;
    const count = delta(`portcullis_http_request_duration_seconds_count${m[1]}`);
    const route = /route="([^"]*)"/.exec(m[1])?.[1] ?? m[1];
    if (count > 0) means[route] = { count, meanMs: ((sum - (before[key] ?? 0)) / count) * 1000 };
  }

  return means;
}

/** What `portcullis scan findings <digest> --json` says about the layer holding the planted key. */
async function recordedFindings(target, digest) {
  const out = await run(process.execPath, [
    PORTCULLIS_BIN, 'scan', 'findings', digest, '--json', '--data-dir', target.storeDir, '--config', target.configFile,
  ]);
  const records = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

  return records.flatMap((r) => r.findings.map((f) => `${f.rule} at ${f.path}`));
}

/** One round on one target: fresh server, tokens fetched, then the timed push of every image. */
async function pushRound(o, target, images, round) {
  const server = await target.start();
  try {
    const auth = new TokenAuth({ baseUrl: server.url, user: server.user, password: server.password });
    await auth.init();
    const client = new RegistryClient(auth);
    const repos = images.map((_, i) => `bench/scan-push/r${round}-img${i}`);
    for (const repo of repos) await auth.authHeader(pushScope(repo)); // tokens are not what is measured
    const isPortcullis = target.id.startsWith('portcullis');
    // Scraping also resets the event-loop delay histogram, so the second scrape covers the push.
    const metrics0 = isPortcullis ? await scrapeMetrics(server.url) : {};

    const cpu0 = cpuSnapshot(server.pids);
    const t0 = performance.now();
    const manifestMs = [];
    let next = 0;
    const worker = async () => {
      // Image 0, which holds the planted key, goes last: in warn mode, where scans finish after
      // the push, the time until its finding is recorded is how long the scans lag behind.
      while (next < images.length) {
        const i = images.length - 1 - next++;
        manifestMs.push(await pushImage(client, repos[i], images[i]));
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, images.length) }, worker));
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuDelta(cpu0, cpuSnapshot(server.pids));

    const result = { wall, cpu, manifestMs: median(manifestMs), loadavg: os.loadavg()[0] };
    if (isPortcullis) {
      const metrics1 = await scrapeMetrics(server.url);
      result.putMs = putDurations(metrics0, metrics1);
      result.eventLoop = {
        p99Ms: (metrics1.portcullis_nodejs_eventloop_lag_p99_seconds ?? NaN) * 1000,
        maxMs: (metrics1.portcullis_nodejs_eventloop_lag_max_seconds ?? NaN) * 1000,
      };
      if (target.scanning) {
        const planted = images[0].layers[2].digest;
        const drainStart = performance.now();
        while (!(await recordedFindings(server, planted)).some((f) => f.includes('deploy-key.pem')) && performance.now() - drainStart < 300_000) await sleep(100);
        result.scanLag = (performance.now() - drainStart) / 1000;
        result.cpuWithScans = cpuDelta(cpu0, cpuSnapshot(server.pids));
      }
      await server.halt();
      result.findings = await recordedFindings(server, images[0].layers[2].digest);
      if (target.scanning !== result.findings.some((f) => f.includes('deploy-key.pem'))) {
        const seen = result.findings.join('; ') || 'none';
        throw new Error(`${target.id}: the planted key was ${target.scanning ? 'not ' : ''}recorded (findings: ${seen})`);
      }
    }

    return result;
  } catch (err) {
    log(logTail(server.logFile, 20));
    throw err;
  } finally {
    agent.destroy();
    await server.stop();
  }
}

const routeMs = (result, route) => result.putMs[route]?.meanMs ?? NaN;

function summarize(o, all, totals) {
  const rows = {};
  for (const [id, runs] of Object.entries(all)) {
    const walls = runs.map((r) => r.wall);
    rows[id] = {
      runs: runs.length,
      mbps: median(walls.map((w) => totals.compressed / 1e6 / w)),
      mbpsEach: walls.map((w) => totals.compressed / 1e6 / w),
      tarMbps: median(walls.map((w) => totals.tar / 1e6 / w)),
      imagesPerSec: median(walls.map((w) => totals.images / w)),
      wall: median(walls),
      registryCpuSeconds: median(runs.map((r) => r.cpu.registrySeconds)),
      otherCores: median(runs.map((r) => r.cpu.other)),
      manifestMs: median(runs.map((r) => r.manifestMs)),
      eventLoopP99Ms: runs[0].eventLoop ? median(runs.map((r) => r.eventLoop.p99Ms)) : null,
      blobPutMs: runs[0].putMs ? median(runs.map((r) => routeMs(r, '/v2/:name/blobs/uploads'))) : null,
      manifestPutServerMs: runs[0].putMs ? median(runs.map((r) => routeMs(r, '/v2/:name/manifests'))) : null,
      findings: runs[0].findings ? runs.map((r) => r.findings) : null,
      scanLag: runs[0].scanLag === undefined ? null : median(runs.map((r) => r.scanLag)),
      cpuWithScans: runs[0].cpuWithScans === undefined ? null : median(runs.map((r) => r.cpuWithScans.registrySeconds)),
    };
  }
  const off = rows['portcullis-off'];
  const warn = rows['portcullis-warn'];
  const held = rows['portcullis-quarantine'];
  const ref = rows['docker-registry'];
  // Scans that finish after the push (warn) cost their CPU after it: count it to the end of the scans.
  const extraWall = held.wall - off.wall;
  const extraCpu = (warn.cpuWithScans ?? warn.registryCpuSeconds) - off.registryCpuSeconds;

  return {
    rows,
    ratios: { warnOverOff: warn.mbps / off.mbps, heldOverOff: held.mbps / off.mbps, offOverRef: off.mbps / ref.mbps, warnOverRef: warn.mbps / ref.mbps },
    scan: {
      mbPerExtraSecond: extraWall > 0 ? totals.tar / 1e6 / extraWall : null,
      mbPerExtraCpuSecond: extraCpu > 0 ? totals.tar / 1e6 / extraCpu : null,
    },
  };
}

const MB = (bytes) => (bytes / 1e6).toFixed(0);
const f1 = (x) => (x === null || Number.isNaN(x) ? '—' : x.toFixed(1));

/** The Markdown table and the lines under it, as pasted into RESULTS.md. */
function render(o, s, totals) {
  const lines = [
    `${totals.images} images × 3 layers, ${MB(totals.compressed)} MB gzip (${MB(totals.tar)} MB tar), `
      + `${o.concurrency} images at a time, median of ${o.runs} rounds, `
      + `scan workers: ${o.scanWorkers ?? `server default (${Math.max(1, os.availableParallelism() - 1)})`}`,
    '',
    '| target | MB/s (gzip) | MB/s (tar) | images/s | each round, MB/s | manifest PUT p50 | registry CPU-s | other cores |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [id, r] of Object.entries(s.rows)) {
    const cells = [id, `**${f1(r.mbps)}**`, f1(r.tarMbps), r.imagesPerSec.toFixed(2), r.mbpsEach.map(f1).join(', '),
      `${r.manifestMs.toFixed(0)} ms`, f1(r.registryCpuSeconds), r.otherCores.toFixed(2)];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const { warnOverOff, heldOverOff, offOverRef, warnOverRef } = s.ratios;
  const recorded = (id) => s.rows[id].findings.map((f) => (f.some((x) => x.includes('deploy-key.pem')) ? 'yes' : 'no')).join('/');
  lines.push('',
    `- scanning on (warn, the default: the push does not wait for the scan) / off: **${warnOverOff.toFixed(2)}×** (goal ≥ ${GOAL}: ${warnOverOff >= GOAL ? 'met' : 'NOT met'}); `
      + `the last image's findings were recorded ${f1(s.rows['portcullis-warn'].scanLag)} s after its push`,
    `- scanning on (quarantine: each manifest push waits for its layers' scans) / off: **${heldOverOff.toFixed(2)}×**`,
    `- portcullis-off / docker-registry: ${offOverRef.toFixed(2)}×; portcullis-warn / docker-registry: ${warnOverRef.toFixed(2)}×`,
    `- scan rate: ${f1(s.scan.mbPerExtraSecond)} MB of tar per second of extra wall time; `
      + `${f1(s.scan.mbPerExtraCpuSecond)} MB of tar per extra registry CPU-second`);
  for (const id of ['portcullis-off', 'portcullis-warn', 'portcullis-quarantine']) {
    const r = s.rows[id];
    lines.push(`- ${id}, from its /metrics: blob upload PUT mean ${f1(r.blobPutMs)} ms, `
      + `manifest PUT mean ${f1(r.manifestPutServerMs)} ms, event-loop delay p99 ${f1(r.eventLoopP99Ms)} ms`);
  }
  lines.push(`- planted key recorded by \`scan findings\`: warn ${recorded('portcullis-warn')}, quarantine ${recorded('portcullis-quarantine')}, off ${recorded('portcullis-off')}`);

  return lines.join('\n');
}

async function main() {
  const o = options();
  installCleanupHandlers();
  const started = new Date();
  log(`scan-push: building ${o.images} images${o.quick ? ' (quick)' : ''}`);
  const t0 = performance.now();
  const images = await buildImages(REPO_ROOT, { images: o.images, scale: o.scale, secret: plantedSecret() });
  const layers = images.flatMap((i) => i.layers);
  const totals = {
    images: images.length,
    compressed: images.reduce((n, i) => n + i.config.size, 0) + layers.reduce((n, l) => n + l.size, 0),
    tar: layers.reduce((n, l) => n + l.tarBytes, 0),
  };
  const buildSeconds = ((performance.now() - t0) / 1000).toFixed(1);
  log(`  ${layers.length} layers, ${MB(totals.compressed)} MB gzip, ${MB(totals.tar)} MB tar, built in ${buildSeconds} s`);

  const all = {};
  const list = targets(o);
  for (let round = 0; round < o.runs; round++) {
    const order = list.map((_, i) => list[(i + round) % list.length]); // each target leads some round
    for (const target of order) {
      const r = await pushRound(o, target, images, round);
      (all[target.id] ??= []).push(r);
      const found = r.findings ? `, findings: ${r.findings.join('; ') || 'none'}` : '';
      log(`  round ${round + 1} ${target.id.padEnd(16)} ${f1(totals.compressed / 1e6 / r.wall)} MB/s, ${r.wall.toFixed(1)} s, `
        + `manifest PUT p50 ${r.manifestMs.toFixed(0)} ms, registry ${r.cpu.registry} cores, other ${r.cpu.other}${found}`);
    }
  }

  const summary = summarize(o, all, totals);
  console.log(render(o, summary, totals));
  if (o.out) {
    const doc = {
      date: started.toISOString(), command: process.argv.slice(1).join(' '),
      machine: {
        cpus: os.cpus().length, model: os.cpus()[0]?.model, memMiB: Math.round(os.totalmem() / 2 ** 20), node: process.version,
      },
      options: o, totals, runs: all, ...summary,
    };
    fs.writeFileSync(o.out, `${JSON.stringify(doc, null, 2)}\n`);
    log(`results written to ${o.out}`);
  }
}

main().then(async () => {
  await cleanupAll();
  process.exit(0);
}, async (err) => {
  log(`scan-push: ${err.stack || err.message}`);
  await cleanupAll();
  process.exit(1);
});

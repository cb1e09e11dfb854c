#!/usr/bin/env node
// Portcullis side-by-side benchmark. See bench/README.md.
//   node bench/run.js [--target both|portcullis|docker-registry] [--quick] [--out FILE]
//   node bench/run.js --url http://127.0.0.1:PORT --user U --password P [--pid PID]
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { TokenAuth } from './lib/auth.js';
import { agent } from './lib/http.js';
import { cpuDelta, cpuSnapshot } from './lib/cpu.js';
import { cleanupAll, installCleanupHandlers, logTail } from './lib/proc.js';
import { RegistryClient } from './lib/registry.js';
import { cpuRatioOf, goalMet, goalText, ratioOf, renderComparison, renderSingle } from './lib/report.js';
import { SCENARIOS, SIZES } from './lib/scenarios.js';
import { startPortcullis } from './portcullis.js';
import { startReference } from './reference.js';

const USAGE = `usage: node bench/run.js [options]
  --target T            both | portcullis | docker-registry   (env BENCH_TARGET, default both)
  --quick               small sizes for a smoke run            (env BENCH_QUICK=1)
  --out FILE            write JSON results to FILE              (env BENCH_OUT)
  --url URL             benchmark an already running registry   (env BENCH_URL)
  --user U --password P credentials for --url                   (env BENCH_USER, BENCH_PASSWORD)
  --pid PID             registry PID for the RSS scenario in --url mode (env BENCH_PID)
  --scenarios a,b,...   subset of: ${SCENARIOS.map((s) => s.id).join(', ')}
  --concurrency N       connections for the request-rate scenarios (default 64)
  --duration SEC        time bound per request-rate scenario (default 10, quick 3)
  --requests N          request bound per request-rate scenario (default 20000, quick 3000)
  --small-concurrency N images pushed at once in small-images (default 4)
  --wait-idle SEC       before each registry, wait up to SEC s for the machine to be idle`;

function options() {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' },
      url: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, pid: { type: 'string' },
      scenarios: { type: 'string' }, concurrency: { type: 'string' }, duration: { type: 'string' },
      requests: { type: 'string' }, 'wait-idle': { type: 'string' }, 'small-concurrency': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(USAGE); process.exit(0); }
  const env = process.env;
  const o = {
    target: values.target ?? env.BENCH_TARGET ?? 'both',
    quick: values.quick ?? ['1', 'true'].includes(env.BENCH_QUICK ?? ''),
    out: values.out ?? env.BENCH_OUT,
    url: values.url ?? env.BENCH_URL,
    user: values.user ?? env.BENCH_USER,
    password: values.password ?? env.BENCH_PASSWORD,
    pid: Number(values.pid ?? env.BENCH_PID) || null,
    concurrency: Number(values.concurrency ?? 64),
    smallConcurrency: Number(values['small-concurrency'] ?? 4),
    waitIdle: Number(values['wait-idle'] ?? env.BENCH_WAIT_IDLE ?? 0),
  };
  o.sizes = { ...(o.quick ? SIZES.quick : SIZES.full) };
  if (values.duration) o.sizes.loadMs = Number(values.duration) * 1000;
  if (values.requests) o.sizes.loadMax = Number(values.requests);
  const wanted = (values.scenarios ?? env.BENCH_SCENARIOS)?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = (wanted ?? []).filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}`);
  o.scenarios = wanted ? SCENARIOS.filter((s) => wanted.includes(s.id)) : SCENARIOS;
  if (!['both', 'portcullis', 'docker-registry'].includes(o.target)) throw new Error(`bad --target ${o.target}\n${USAGE}`);
  if (o.url && !(o.user && o.password)) throw new Error('--url needs --user and --password');
  return o;
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait (bounded) until other processes use less than a quarter of a core. */
async function waitIdle(seconds) {
  const deadline = Date.now() + seconds * 1000;
  let told = false;
  while (Date.now() < deadline) {
    const a = cpuSnapshot();
    await sleep(1000);
    const { other } = cpuDelta(a, cpuSnapshot());
    if (other < 0.25) return;
    if (!told) { log(`  waiting up to ${seconds} s for the machine to go idle (others use ${other} cores)`); told = true; }
  }
  log('  machine still busy; going ahead');
}

/** Run every selected scenario against one started (or external) registry. */
async function benchTarget(o, target) {
  const results = {};
  const auth = new TokenAuth({ baseUrl: target.url, user: target.user, password: target.password });
  try {
    await auth.init();
  } catch (err) {
    for (const s of o.scenarios) results[s.id] = { error: `auth setup failed: ${err.message}`, detail: err.detail };
    return results;
  }
  log(`  auth: ${auth.mode}${auth.realm ? ` (realm ${auth.realm}, service ${auth.service})` : ''}`);
  const ctx = {
    client: new RegistryClient(auth), sizes: o.sizes, pid: target.pid,
    concurrency: o.concurrency, smallConcurrency: o.smallConcurrency,
    cpuSnap: () => cpuSnapshot(target.pids ?? []),
  };
  for (const s of o.scenarios) {
    const t0 = Date.now();
    const cpu0 = cpuSnapshot(target.pids ?? []);
    try {
      results[s.id] = await s.run(ctx);
    } catch (err) {
      results[s.id] = { error: err.message, detail: err.detail };
    }
    const r = results[s.id];
    r.cpu = cpuDelta(cpu0, cpuSnapshot(target.pids ?? []));
    if (r.note && r.cpu) {
      r.note += `; cores used: registry ${r.cpu.registry}, bench ${r.cpu.bench}, other ${r.cpu.other}`;
      // Throughput per registry core is less sensitive to a busy machine than the raw rate.
      const regSec = r.registrySeconds ?? r.cpu.registrySeconds; // timed section only, when known
      if (r.work && regSec >= 0.5) { // below that, 10 ms CPU ticks are too coarse
        r.perRegistryCore = r.work / regSec;
        r.note += `; ${r.perRegistryCore.toFixed(0)} ${s.unit.replace('/s', '')} per registry CPU-second`;
      }
    }
    const shown = r.error ? `FAILED: ${r.error}` : r.skipped ? `skipped: ${r.skipped}` : `${r.value.toFixed(2)} ${s.unit}`;
    const cores = r.cpu ? `, cores: registry ${r.cpu.registry} other ${r.cpu.other}` : '';
    log(`  ${s.id.padEnd(14)} ${shown}  (${((Date.now() - t0) / 1000).toFixed(1)} s${cores})`);
  }
  return results;
}

async function main() {
  const o = options();
  installCleanupHandlers();
  const started = new Date();
  const results = {};
  const meta = {};
  const targets = o.url ? ['custom'] : o.target === 'both' ? ['portcullis', 'docker-registry'] : [o.target];
  log(`bench: ${o.quick ? 'quick' : 'full'} run, scenarios: ${o.scenarios.map((s) => s.id).join(', ')}`);

  for (const name of targets) {
    log(`\n== ${name} ==`);
    let target;
    if (o.waitIdle > 0) await waitIdle(o.waitIdle);
    try {
      if (name === 'custom') target = { name: o.url, url: o.url, user: o.user, password: o.password, pid: o.pid, pids: o.pid ? [o.pid] : [], stop: async () => {} };
      else target = name === 'portcullis' ? await startPortcullis() : await startReference();
      const loadavg = os.loadavg().map((x) => Number(x.toFixed(2)));
      meta[name] = { url: target.url, pid: target.pid ?? null, loadavgAtStart: loadavg, build: target.build ?? null };
      log(`  started at ${target.url}${target.pid ? ` (pid ${target.pid})` : ''}; load average ${loadavg.join(' ')}`);
      if (target.build) log(`  build: ${JSON.stringify(target.build)}`);
      if (loadavg[0] > 0.7) log('  warning: the machine is already busy; figures will be noisy');
      results[name] = await benchTarget(o, target);
      if (Object.values(results[name]).some((r) => r.error) && target.logFile) log(logTail(target.logFile, 20));
    } catch (err) {
      log(`  could not start ${name}: ${err.message}`);
      results[name] = Object.fromEntries(o.scenarios.map((s) => [s.id, { error: `could not start: ${err.message.split('\n')[0]}` }]));
    } finally {
      agent.destroy();
      if (target) await target.stop();
    }
  }

  console.log('');
  if (targets.length === 2) console.log(renderComparison(o.scenarios, results));
  else console.log(renderSingle(o.scenarios, targets[0] === 'custom' ? o.url : targets[0], results[targets[0]]));

  if (o.out) {
    const comparison = o.scenarios.map((s) => {
      const pc = results.portcullis?.[s.id];
      const ref = results['docker-registry']?.[s.id];
      const ratio = ratioOf(s, pc, ref);
      return {
        id: s.id, title: s.title, unit: s.unit, better: s.better, goal: goalText(s), ratio, met: goalMet(s, pc, ratio),
        ratioPerRegistryCpuSecond: cpuRatioOf(pc, ref),
      };
    });
    const doc = {
      date: started.toISOString(), command: process.argv.slice(1).join(' '),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memMiB: Math.round(os.totalmem() / 2 ** 20), node: process.version },
      options: { target: o.target, quick: o.quick, url: o.url ?? null, sizes: o.sizes, concurrency: o.concurrency, smallConcurrency: o.smallConcurrency },
      targets: meta, results, comparison,
    };
    fs.writeFileSync(o.out, `${JSON.stringify(doc, null, 2)}\n`);
    log(`\nresults written to ${o.out}`);
  }
  const failed = Object.values(results).some((rs) => Object.values(rs).some((r) => r.error));
  return failed ? 1 : 0;
}

main().then(async (code) => {
  await cleanupAll();
  process.exit(code);
}, async (err) => {
  log(`bench: ${err.stack || err.message}`);
  await cleanupAll();
  process.exit(2);
});

// Closed-loop load generator: N concurrent keep-alive workers repeat one request until a
// duration or a request count is reached. Kept deliberately cheap per request, because it
// shares the machine with the registry under test.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { cpuDelta } from './cpu.js';
import { agent } from './http.js';

/** One request; a 200 whose body length is not `expectBytes` (-1: any non-empty) counts as a failure. */
function once(options, expectBytes) {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      if (res.statusCode === 200 && expectBytes === undefined) {
        res.on('end', () => resolve({ status: 200 }));
        res.resume();
        return;
      }
      if (res.statusCode === 200) {
        let n = 0;
        res.on('data', (d) => { n += d.length; });
        res.on('end', () => {
          const ok = expectBytes === -1 ? n > 0 : n === expectBytes;
          resolve(ok ? { status: 200 } : { status: 200, headers: res.headers, body: `body of ${n} bytes, expected ${expectBytes === -1 ? 'some' : expectBytes}`, bad: true });
        });
        return;
      }
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts).toString('utf8').slice(0, 600) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * runLoad({ auth, scope, method, url, concurrency, durationMs, maxRequests })
 * → { requests, errors, seconds, rate, registrySeconds, p50ms, p99ms, clientCpuPct, firstError }
 */
export async function runLoad({ auth, scope, method, url, headers = {}, cpuSnap, expectBytes, concurrency = 64, durationMs = 10000, maxRequests = 20000, warmup = 256 }) {
  const u = new URL(url);
  const baseOptions = { hostname: u.hostname, port: u.port, path: u.pathname + u.search, method, agent };
  let authHeader = await auth.authHeader(scope);
  const optionsFor = () => ({ ...baseOptions, headers: authHeader ? { ...headers, authorization: authHeader } : headers });
  let options = optionsFor();

  async function refreshIfNeeded(force = false) {
    if (force) auth.invalidate(scope);
    const cached = auth.cachedHeader(scope);
    if (cached === null || force) {
      authHeader = await auth.authHeader(scope);
      options = optionsFor();
    }
  }

  // Warm-up: open the connections, fill caches; not counted.
  let warm = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (warm < warmup) { warm += 1; await once(options, expectBytes); }
  }));

  const latencies = new Float64Array(maxRequests);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let firstError = null;
  const cpu0 = process.cpuUsage();
  const snap0 = cpuSnap?.();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  let tEnd = t0;
  let lastCheck = 0;

  async function worker() {
    while (issued < maxRequests && performance.now() < deadline) {
      const i = issued++;
      if (i - lastCheck >= 500) { lastCheck = i; await refreshIfNeeded(); }
      const start = performance.now();
      let r;
      try { r = await once(options, expectBytes); } catch (err) { r = { status: 0, body: String(err) }; }
      const end = performance.now();
      latencies[i] = end - start;
      done += 1;
      tEnd = end;
      if (r.status !== 200 || r.bad) {
        errors += 1;
        if (!firstError) firstError = { method, url, ...r };
        if (r.status === 401) await refreshIfNeeded(true);
        if (errors > 100 && errors > done / 2) throw Object.assign(new Error(`too many failures: ${method} ${url}`), { detail: firstError });
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));

  const seconds = (tEnd - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const registrySeconds = snap0 ? cpuDelta(snap0, cpuSnap()).registrySeconds : undefined;
  const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
  return {
    requests: done, errors, seconds,
    rate: (done - errors) / seconds, registrySeconds,
    p50ms: percentile(sorted, 50), p99ms: percentile(sorted, 99),
    clientCpuPct: (100 * (cpu.user + cpu.system)) / 1000 / (tEnd - t0),
    firstError,
  };
}

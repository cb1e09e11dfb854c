// CPU accounting per scenario from /proc: how many cores the registry side, the bench
// itself and everything else on the machine used. "other" well above zero means the
// figures were taken on a busy machine.
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { descendants } from './rss.js';

const TICKS_PER_SEC = 100; // USER_HZ on Linux

function procTicks(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch { return 0; }
}

export function cpuSnapshot(pids = []) {
  const cols = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = cols.reduce((a, b) => a + b, 0);
  const idle = cols[3] + cols[4];
  let registry = 0;
  for (const pid of pids) {
    registry += procTicks(pid);
    for (const child of descendants(pid)) registry += procTicks(child);
  }
  const self = process.cpuUsage();
  return { t: performance.now(), total, idle, registry, selfUs: self.user + self.system };
}

/** Average cores used between two snapshots. */
export function cpuDelta(a, b) {
  const secs = (b.t - a.t) / 1000;
  if (secs <= 0) return null;
  const dTotal = b.total - a.total;
  const busy = dTotal > 0 ? ((dTotal - (b.idle - a.idle)) / dTotal) * os.cpus().length : 0;
  const registry = (b.registry - a.registry) / TICKS_PER_SEC / secs;
  const bench = (b.selfUs - a.selfUs) / 1e6 / secs;
  const r2 = (x) => Math.round(x * 100) / 100;
  return {
    registry: r2(registry), bench: r2(bench), other: r2(Math.max(0, busy - registry - bench)),
    registrySeconds: (b.registry - a.registry) / TICKS_PER_SEC,
  };
}

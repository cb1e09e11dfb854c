// Resident-set sampling from /proc for the registry process (and any children it forked).
import fs from 'node:fs';

function vmRssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

export function descendants(pid) {
  const out = [];
  let tasks = [];
  try { tasks = fs.readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tasks) {
    let kids = '';
    try { kids = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8'); } catch { continue; }
    for (const k of kids.split(/\s+/).filter(Boolean)) out.push(Number(k), ...descendants(Number(k)));
  }
  return out;
}

/** Total VmRSS in MiB of pid plus its descendants. */
export function treeRssMiB(pid) {
  let kib = vmRssKiB(pid);
  for (const child of descendants(pid)) kib += vmRssKiB(child);
  return kib / 1024;
}

/** Sample every intervalMs until stop() is called; stop() returns { peakMiB, baselineMiB, samples }. */
export function startRssSampler(pid, intervalMs = 100) {
  const baselineMiB = treeRssMiB(pid);
  let peakMiB = baselineMiB;
  let samples = 1;
  const timer = setInterval(() => {
    const v = treeRssMiB(pid);
    samples += 1;
    if (v > peakMiB) peakMiB = v;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const v = treeRssMiB(pid);
      if (v > peakMiB) peakMiB = v;
      return { peakMiB, baselineMiB, samples: samples + 1 };
    },
  };
}

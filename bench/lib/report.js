// Text tables for the results: one row per scenario, each registry's figure, the
// ratio oriented so that > 1 favours Portcullis, and Portcullis's goal.

const fmt = (v) => {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v >= 1000) return v.toFixed(0);
  if (v >= 100) return v.toFixed(1);
  return v.toFixed(2);
};

function cell(result) {
  if (!result) return 'not run';
  if (result.error) return 'FAILED';
  if (result.skipped) return 'skipped';
  return fmt(result.value);
}

/** Ratio with > 1 meaning Portcullis is better. */
export function ratioOf(scenario, pc, ref) {
  if (!pc || !ref || pc.value === undefined || ref.value === undefined || pc.error || ref.error) return null;
  if (pc.skipped || ref.skipped || !pc.value || !ref.value) return null;
  return scenario.better === 'lower' ? ref.value / pc.value : pc.value / ref.value;
}

/** Same orientation, on work per registry CPU-second (less sensitive to a busy machine). */
export function cpuRatioOf(pc, ref) {
  if (!pc?.perRegistryCore || !ref?.perRegistryCore || pc.error || ref.error) return null;
  return pc.perRegistryCore / ref.perRegistryCore;
}

export function goalText(scenario) {
  if (scenario.goal.ratio !== undefined) return `ratio ≥ ${scenario.goal.ratio}×`;
  return `Portcullis ≤ ${scenario.goal.max} ${scenario.unit}`;
}

export function goalMet(scenario, pc, ratio) {
  if (pc?.error) return false; // a failed scenario does not meet its goal
  if (scenario.goal.ratio !== undefined) return ratio === null ? null : ratio >= scenario.goal.ratio;
  if (!pc || pc.skipped || pc.value === undefined) return null;
  return pc.value <= scenario.goal.max;
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** results: { [targetName]: { [scenarioId]: result } } */
export function renderComparison(scenarios, results) {
  const pcAll = results.portcullis || {};
  const refAll = results['docker-registry'] || {};
  const rows = [];
  const notes = [];
  for (const s of scenarios) {
    const pc = pcAll[s.id];
    const ref = refAll[s.id];
    if (!pc && !ref) continue;
    const ratio = ratioOf(s, pc, ref);
    const met = goalMet(s, pc, ratio);
    const perCpu = cpuRatioOf(pc, ref);
    rows.push([s.id, s.unit, cell(pc), cell(ref), ratio === null ? '—' : `${ratio.toFixed(2)}×`,
      goalText(s), met === null ? '?' : met ? 'yes' : 'NO', perCpu === null ? '—' : `${perCpu.toFixed(2)}×`]);
    for (const [who, r] of [['portcullis', pc], ['docker-registry', ref]]) {
      if (r?.note) notes.push(`  ${s.id} [${who}]: ${r.note}`);
      if (r?.error) notes.push(`  ${s.id} [${who}] FAILED: ${r.error}`);
      if (r?.skipped) notes.push(`  ${s.id} [${who}] skipped: ${r.skipped}`);
    }
  }
  const head = ['scenario', 'unit', 'portcullis', 'docker-registry', 'ratio', 'goal', 'met', 'ratio per CPU-s'];
  return `${table(head, rows)}\n\n(ratio > 1 favours Portcullis; "ratio per CPU-s" compares work done per CPU-second of each registry)\n\nDetails:\n${notes.join('\n')}`;
}

/** One registry only (--target X or --url mode). */
export function renderSingle(scenarios, name, res) {
  const rows = [];
  const notes = [];
  for (const s of scenarios) {
    const r = res[s.id];
    if (!r) continue;
    rows.push([s.id, s.title, s.unit, cell(r)]);
    if (r.note) notes.push(`  ${s.id}: ${r.note}`);
    if (r.error) notes.push(`  ${s.id} FAILED: ${r.error}`);
    if (r.skipped) notes.push(`  ${s.id} skipped: ${r.skipped}`);
  }
  return `${name}\n${table(['scenario', 'what', 'unit', 'value'], rows)}\n\nDetails:\n${notes.join('\n')}`;
}

// Audit query benchmark (issue #4 §4): fills an embedded SQLite store with N chained audit
// events, then times the incident questions "who pulled digest D" and "what did credential C
// pull since T". Target: each answers in at most 100 ms over 10 million events.
//
//   node bench/audit-queries.js [--events 10000000] [--runs 30] [--keep DIR]
//
// Needs `npm run build` first (it uses the built store). Prints the figures as JSON too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { linkHash } from '../dist/src/audit/chain.js';
import { openMetadataStore } from '../dist/src/storage/metadata/index.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '30' }, keep: { type: 'string' } } });
const total = Number(values.events);
const runs = Number(values.runs);
const CREDENTIALS = 2000;
const DIGESTS = 50_000;
const REPOSITORIES = 500;
const DAYS = 90;
const BATCH = 50_000;
const PULLS = ['manifest.pull', 'blob.pull'];

const dir = values.keep ?? (await mkdtemp(path.join(tmpdir(), 'portcullis-audit-bench-')));
let store = await openMetadataStore('sqlite', dir);
const hex = (n, width) => n.toString(16).padStart(width, '0');
const start = Date.now() - DAYS * 86_400_000;

// A cheap deterministic spread, so every run builds the same log.
let seed = 42;
const next = (n) => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) % n;
};

const fillStarted = performance.now();
const existing = (await store.audit.head()).seq;
await store.close();
// Filling is setup, not what is measured: rows go in through one prepared statement, with
// the same hash chain the registry writes, and the store is opened again for the queries.
const db = new SQLite(path.join(dir, 'portcullis.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = OFF');
const columns = ['seq', 'at', 'node', 'request_id', 'action', 'outcome', 'reason', 'principal', 'credential', 'token_id', 'federated', 'address', 'user_agent', 'repository', 'reference', 'digest', 'bytes', 'prev_hash', 'hash'];
const insert = db.prepare(`INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
let prev = db.prepare('SELECT hash FROM audit_head WHERE id = 1').get().hash;
let seq = existing;
const fill = db.transaction((count) => {
  for (let i = 0; i < count; i++) {
    seq += 1;
    const credential = next(CREDENTIALS);
    const pull = next(10) < 9;
    const row = {
      seq,
      at: start + Math.floor((seq / total) * DAYS * 86_400_000),
      node: 'bench',
      requestId: null,
      action: pull ? PULLS[next(2)] : 'manifest.push',
      outcome: next(50) === 0 ? 'denied' : 'allowed',
      reason: null,
      principal: `user:${hex(credential, 8)}`,
      credential: credential < 1500 ? `user-${credential}` : `robot+ci-${credential}`,
      tokenId: null,
      federated: null,
      address: `10.${next(4)}.${next(250)}.${next(250)}`,
      userAgent: 'containers/5.0',
      repository: `team-${next(REPOSITORIES)}/app`,
      reference: 'v1',
      digest: `sha256:${hex(next(DIGESTS), 64)}`,
      bytes: 1024 + next(1 << 20),
      prevHash: prev,
    };
    const hash = linkHash(row);
    insert.run(row.seq, row.at, row.node, row.requestId, row.action, row.outcome, row.reason, row.principal, row.credential, row.tokenId, row.federated, row.address, row.userAgent, row.repository, row.reference, row.digest, row.bytes, row.prevHash, hash);
    prev = hash;
  }
});
while (seq < total) {
  fill(Math.min(BATCH, total - seq));
  if (seq % 1_000_000 < BATCH) process.stderr.write(`  ${seq} events written\n`);
}
db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(seq, prev);
db.close();
store = await openMetadataStore('sqlite', dir);
const fillSeconds = (performance.now() - fillStarted) / 1000;

async function timed(label, query) {
  const times = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    rows = (await query(i)).length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { query: label, rows, medianMs: round(times[Math.floor(runs / 2)]), p95Ms: round(times[Math.floor(runs * 0.95)]), maxMs: round(times.at(-1)) };
}
const round = (ms) => Math.round(ms * 100) / 100;
const since = Date.now() - 7 * 86_400_000;

const results = [
  await timed('audit pulls --digest D', (i) => store.audit.query({ digest: `sha256:${hex((i * 7919) % DIGESTS, 64)}`, actions: PULLS, outcome: 'allowed' }, 0, 1000)),
  await timed('audit pulls --credential C --since 7d', (i) => store.audit.query({ credential: `user-${(i * 31) % 1500}`, actions: PULLS, outcome: 'allowed', since }, 0, 1000)),
  await timed('audit pulls --credential C (all 90 days, first 1000)', (i) => store.audit.query({ credential: `robot+ci-${1500 + ((i * 13) % 500)}`, actions: PULLS, outcome: 'allowed' }, 0, 1000)),
];
const report = { date: new Date().toISOString(), events: (await store.audit.head()).seq, fillSeconds: round(fillSeconds), results };
console.log(JSON.stringify(report, null, 2));
for (const r of results) console.log(`${r.query}: median ${r.medianMs} ms, p95 ${r.p95Ms} ms, max ${r.maxMs} ms (${r.rows} rows)`);
await store.close();
if (!values.keep) await rm(dir, { recursive: true, force: true });

import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { appendFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import type { AuditExportConfig } from '../../config/schema.js';
import type { AuditRow } from '../../storage/metadata/index.js';
import { cloudEvent } from './cloudevent.js';

/** Delivers a batch of events, in order, or throws (the batch is then tried again later). */
export type Sink = (rows: AuditRow[]) => Promise<void>;

const TIMEOUT_MS = 10_000;

export function sinkFor(config: AuditExportConfig): Sink {
  if (config.kind === 'file') return fileSink(config.path, config.maxBytes, config.keep);
  if (config.kind === 'syslog') return syslogSink(config.address, config.protocol);

  return webhookSink(config.url, config.secret);
}

/**
 * JSON lines appended to `file`; past `maxBytes` the file becomes `file.1` (older ones shift
 * up) and only `keep` old files are kept.
 */
function fileSink(file: string, maxBytes: number, keep: number): Sink {
  return async (rows) => {
    await mkdir(path.dirname(file), { recursive: true });
    const size = (await stat(file).catch(() => undefined))?.size ?? 0;
    if (size >= maxBytes) await rotate(file, keep);
    await appendFile(file, rows.map((r) => `${JSON.stringify(cloudEvent(r))}\n`).join(''), { mode: 0o600 });
  };
}

async function rotate(file: string, keep: number): Promise<void> {
  const base = path.basename(file);
  const old = (await readdir(path.dirname(file))).filter((n) => n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)));
  const numbers = old.map((n) => Number(n.slice(base.length + 1))).sort((a, b) => b - a);
  for (const n of numbers) {
    if (n >= keep) await rm(`${file}.${n}`, { force: true });
    else await rename(`${file}.${n}`, `${file}.${n + 1}`);
  }
  await rename(file, `${file}.1`);
}

/** RFC 5424 lines (facility auth, severity notice), over UDP or TCP with octet counting (RFC 6587). */
function syslogSink(address: string, protocol: 'udp' | 'tcp'): Sink {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  const line = (r: AuditRow) => {
    // PRI 37 = facility 4 (security/authorization) × 8 + severity 5 (notice).
    const message = `<37>1 ${new Date(r.at).toISOString()} ${r.node || '-'} portcullis - ${r.action} - ${JSON.stringify(cloudEvent(r))}`;
    return Buffer.from(message, 'utf8');
  };

  return async (rows) => {
    if (protocol === 'udp') {
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      try {
        for (const r of rows) await new Promise<void>((resolve, reject) => socket.send(line(r), port, host, (err) => (err ? reject(err) : resolve())));
      } finally {
        socket.close();
      }
      return;
    }
    const frames = Buffer.concat(rows.map((r) => { const l = line(r); return Buffer.concat([Buffer.from(`${l.length} `), l]); }));
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port, timeout: TIMEOUT_MS }, () => socket.end(frames));
      socket.on('close', (hadError) => (hadError ? undefined : resolve()));
      socket.on('error', reject);
      socket.on('timeout', () => socket.destroy(new Error('syslog connection timed out')));
    });
  };
}

/**
 * POSTs the batch as a JSON array of CloudEvents, signed with HMAC-SHA256 over the exact body
 * (`X-Portcullis-Signature: sha256=<hex>`); anything but a 2xx is a failure to retry.
 */
function webhookSink(url: string, secret: string): Sink {
  return async (rows) => {
    const body = JSON.stringify(rows.map(cloudEvent));
    const signature = createHmac('sha256', secret).update(body).digest('hex');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/cloudevents-batch+json', 'X-Portcullis-Signature': `sha256=${signature}` },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
  };
}

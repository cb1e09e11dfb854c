import { createHmac } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { withStore } from '../auth/support/accounts.js';

const SECRET = 'a-webhook-secret-of-some-length';

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/** A webhook receiver that refuses the first `failures` deliveries, then keeps what it gets. */
async function receiver(port = 0, failures = 0) {
  const ids: number[] = [];
  const signatures: boolean[] = [];
  let refused = 0;
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (p: Buffer) => parts.push(p));
    request.on('end', () => {
      if (refused < failures) {
        refused++;
        response.writeHead(500).end();
        return;
      }
      const body = Buffer.concat(parts).toString('utf8');
      const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      signatures.push(request.headers['x-portcullis-signature'] === expected);
      for (const event of JSON.parse(body) as Array<{ id: string; specversion: string }>) ids.push(Number(event.id));
      response.writeHead(204).end();
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { server, ids, signatures, port: (server.address() as AddressInfo).port, refused: () => refused };
}

describe('audit export', () => {
  let dir: string;
  let registry: TestRegistry;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let udp: UdpSocket;
  let tcp: TcpServer;
  const udpLines: string[] = [];
  let tcpData = '';
  let configFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-export-'));
    hook = await receiver(0, 2);
    udp = createSocket('udp4');
    udp.on('message', (m) => udpLines.push(m.toString('utf8')));
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    tcp = createTcpServer((socket) => socket.on('data', (d: Buffer) => (tcpData += d.toString('utf8'))));
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    configFile = path.join(dir, 'portcullis.yaml');
    await writeFile(
      configFile,
      [
        'audit:',
        '  export:',
        '    - { name: lines, kind: file, path: exported/audit.jsonl, maxBytes: 4096, keep: 2 }',
        `    - { name: syslog-udp, kind: syslog, address: "127.0.0.1:${udp.address().port}", protocol: udp }`,
        `    - { name: syslog-tcp, kind: syslog, address: "127.0.0.1:${(tcp.address() as AddressInfo).port}", protocol: tcp }`,
        `    - { name: siem, kind: webhook, url: "http://127.0.0.1:${hook.port}/events", secret: ${SECRET} }`,
      ].join('\n'),
    );
    registry = await startRegistry({ configFile });
    await new RegistryClient(registry.url, 'admin', registry.adminPassword).pushImage('team/app', 'v1');
  });
  afterAll(async () => {
    await registry?.close();
    hook?.server.close();
    udp?.close();
    tcp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const head = () => withStore(registry, async (store) => (await store.audit.head()).seq);

  it('retries a failing webhook and then delivers every event once, in order, signed', async () => {
    expect(await until(async () => hook.ids.length > 0 && hook.ids.length === (await head()))).toBe(true);
    expect(hook.refused()).toBe(2);
    expect(hook.ids).toEqual(Array.from({ length: hook.ids.length }, (_, i) => i + 1));
    expect(hook.signatures.every(Boolean)).toBe(true);
  });

  it('writes CloudEvents as JSON lines, rotating the file and keeping two old ones', { timeout: 30_000 }, async () => {
    // Rotation happens between batches: keep making events until the files have turned over twice.
    const client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
    await until(async () => {
      await client.request('/v2/team/app/tags/list');
      return (await readdir(path.join(dir, 'exported'))).includes('audit.jsonl.2');
    }, 20_000);
    const files = (await readdir(path.join(dir, 'exported'))).sort();
    expect(files).toContain('audit.jsonl');
    expect(files).toContain('audit.jsonl.1');
    expect(files).toEqual(['audit.jsonl', 'audit.jsonl.1', 'audit.jsonl.2']);
    const first = JSON.parse((await readFile(path.join(dir, 'exported', 'audit.jsonl'), 'utf8')).split('\n')[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ specversion: '1.0', type: expect.stringMatching(/^io\.portcullis\.audit\./), datacontenttype: 'application/json' });
    expect((first.data as Record<string, unknown>).hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sends RFC 5424 syslog over UDP and TCP (octet counting)', async () => {
    expect(await until(() => udpLines.length > 0 && /manifest\.push/.test(tcpData))).toBe(true);
    expect(udpLines[0]).toMatch(/^<37>1 \d{4}-\d\d-\d\dT\S+Z \S+ portcullis - [a-z.]+ - \{"specversion":"1.0"/);
    const frame = /^(\d+) (<37>1 .*)$/s.exec(tcpData);
    expect(frame).not.toBeNull();
    expect(Buffer.byteLength(frame![2]!.slice(0, Number(frame![1])))).toBe(Number(frame![1]));
  });

  it('loses nothing while the webhook is down across a restart', async () => {
    const port = hook.port;
    const before = [...hook.ids];
    hook.server.close();
    await new RegistryClient(registry.url, 'admin', registry.adminPassword).pushImage('team/app', 'v2');
    await registry.restart();
    hook = await receiver(port);
    expect(await until(async () => Math.max(0, ...hook.ids) === (await head()))).toBe(true);
    const all = [...new Set([...before, ...hook.ids])].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
  }, 30_000);
});

import pg from 'pg';
import type { ChangeFeed } from './connect.js';

const RETRY_MS = 1000;
const HEARTBEAT_MS = 15_000;

/**
 * A change feed over PostgreSQL `LISTEN`. While the listening connection is down, every call
 * to `generation()` returns a new value, so callers reload on each request (correct, if
 * slower) until the connection is back; reconnecting also counts as a change, since
 * notifications may have been missed meanwhile. A heartbeat notices a connection that died
 * without an error.
 */
export async function listenForChanges(url: string, channel: string): Promise<ChangeFeed> {
  let local = 0;
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const lose = (lost: pg.Client) => {
    if (client !== lost) return;
    client = undefined;
    lost.end().catch(() => {});
    schedule();
  };
  const schedule = () => {
    if (retry || closed) return;
    retry = setTimeout(() => {
      retry = undefined;
      open().catch(schedule);
    }, RETRY_MS);
    retry.unref();
  };
  const open = async () => {
    const next = new pg.Client({ connectionString: url, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    next.on('notification', () => void local++);
    next.on('error', () => lose(next));
    next.on('end', () => lose(next));
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
    local++;
  };
  const heartbeat = setInterval(() => {
    const current = client;
    current?.query('SELECT 1').catch(() => lose(current));
  }, HEARTBEAT_MS);
  heartbeat.unref();

  await open();

  return {
    generation: () => (client ? String(local) : `lost:${++local}`),
    touch: () => void local++,
    close: async () => {
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(retry);
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}

import { afterEach } from 'vitest';

import type { PortcullisServer } from './start-server.js';

const TAIL_BYTES = 8 * 1024;

/**
 * After each failed test, prints the end of the server's output (its request log), so a client
 * error can be matched with the status Portcullis answered. Secrets are already masked.
 */
export function printServerLogsOnFailure(server: () => PortcullisServer | undefined): void {
  afterEach((context) => {
    if (context.task.result?.state !== 'fail') return;
    const logs = server()?.logs();
    if (logs === undefined || logs === '') return;
    console.error(
      `--- Portcullis output (last ${TAIL_BYTES} bytes) after "${context.task.name}" ---\n` +
        logs.slice(-TAIL_BYTES),
    );
  });
}

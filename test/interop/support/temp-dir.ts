import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Creates a fresh private directory under the system temp dir. */
export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `portcullis-interop-${label}-`));
}

/** Removes a directory made by makeTempDir; PORTCULLIS_INTEROP_KEEP=1 keeps it for debugging. */
export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir === undefined || process.env.PORTCULLIS_INTEROP_KEEP) return;
  await rm(dir, { recursive: true, force: true });
}

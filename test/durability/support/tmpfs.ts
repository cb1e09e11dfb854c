import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A small tmpfs this test mounted itself, or the reason it could not. */
export type Mounted = { dir: string; unmount(): void } | { skipped: string };

/**
 * Mounts a tmpfs of `size` (e.g. "8m") on a fresh directory. Needs root (or CAP_SYS_ADMIN);
 * without it, says why instead of mounting.
 */
export function mountTmpfs(size: string): Mounted {
  if (process.getuid?.() !== 0)
    return { skipped: 'mounting a tmpfs needs root; run the suite as root' };
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();

    return { skipped: `mount -t tmpfs was refused here (${stderr || (err as Error).message})` };
  }

  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Free bytes on the filesystem holding `dir`. */
export function freeBytes(dir: string): number {
  const out = execFileSync('df', ['--output=avail', '-B1', dir], { encoding: 'utf8' });

  return Number(out.trim().split('\n').at(-1));
}

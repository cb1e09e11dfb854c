import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { childEnv } from '../../durability/support/server-process.js';
import { PORTCULLIS_BIN, requireBuild } from './built.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set only when the command had to be killed at `timeoutMs`. */
  timedOut?: true;
}

export interface CliOptions {
  /** Written to standard input, which is then closed. */
  stdin?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the command (SIGKILL) if it has not finished by then; the result says so. */
  timeoutMs?: number;
  /** Close our end of its standard output at once, as `| head` does when it has read enough. */
  closeStdout?: boolean;
}

/** Runs `node bin/portcullis.js …args` to completion. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  requireBuild();

  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PORTCULLIS_BIN, ...args], {
      cwd: options.cwd ?? tmpdir(),
      env: childEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (options.closeStdout) child.stdout.destroy();
    child.stdout.on('data', (part: Buffer) => (stdout += part.toString('utf8')));
    child.stderr.on('data', (part: Buffer) => (stderr += part.toString('utf8')));
    let timedOut = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(timedOut ? { code, stdout, stderr, timedOut: true } : { code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** A fresh data directory and a `portcullis` bound to it with --data-dir. */
export async function cliWorkspace() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'portcullis-cli-'));

  return {
    dataDir,
    /** Runs `portcullis <command…> --data-dir <dataDir>`. */
    run: (args: string[], options: CliOptions = {}) =>
      runCli([...args, '--data-dir', dataDir], options),
    remove: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** The one-line error the CLI prints for a usage problem. */
export function usageError(message: string): string {
  return `portcullis: ${message}\n`;
}

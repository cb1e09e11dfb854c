import { spawn } from 'node:child_process';

/** Options for one client command. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the child's standard input, then closed. */
  input?: string;
  /** The child is killed (by its PID) after this long. */
  timeoutMs?: number;
}

/** What a finished command left behind; `command` is already free of secrets. */
export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 100_000;
const secrets = new Set<string>();

/** Registers a value (password, token) that must never appear in a message or log. */
export function registerSecret(value: string): void {
  if (value.length >= 4) {
    secrets.add(value);
    secrets.add(Buffer.from(value).toString('base64'));
  }
}

/** Replaces every registered secret in `text` with `***`. */
export function maskSecrets(text: string): string {
  let masked = text;
  for (const secret of secrets) {
    masked = masked.split(secret).join('***');
  }

  return masked;
}

/** Renders a result for a failure message: the command, how it ended, and both streams. */
export function describeResult(result: RunResult): string {
  const ending = result.timedOut
    ? 'timed out'
    : result.signal !== null
      ? `was killed by ${result.signal}`
      : `exited with code ${String(result.code)}`;

  return maskSecrets(
    [
      `$ ${result.command}`,
      ending,
      `--- stdout ---\n${result.stdout.trimEnd()}`,
      `--- stderr ---\n${result.stderr.trimEnd()}`,
    ].join('\n'),
  );
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Runs a program without a shell and collects its output; never rejects on a non-zero exit. */
export function run(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const command = maskSecrets([file, ...args].map(quote).join(' '));

  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;

    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${command}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        command,
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });

    // A child that exits before reading its input makes the pipe fail; its exit code tells more.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command that must succeed; the error carries its output, secrets masked. */
export async function runOk(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(`command failed:\n${describeResult(result)}`);
  }

  return result;
}

/** Runs a command that must fail; returns its output (stdout and stderr together in `output`). */
export async function runFailing(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult & { output: string }> {
  const result = await run(file, args, options);
  if (result.code === 0) {
    throw new Error(`command succeeded but was expected to fail:\n${describeResult(result)}`);
  }
  if (result.timedOut) {
    throw new Error(`command timed out instead of failing:\n${describeResult(result)}`);
  }

  return { ...result, output: maskSecrets(`${result.stdout}\n${result.stderr}`) };
}

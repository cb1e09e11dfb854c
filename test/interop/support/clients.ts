import type { ContainersEnv } from './containers-env.js';
import { runFailing, runOk, type RunResult } from './run.js';

/** Per-test timeout for anything that drives a real client. */
export const CLIENT_TIMEOUT_MS = 120_000;

/** A user name and password, as `--creds`/`--src-creds`/`--dest-creds` take them. */
export interface Credentials {
  user: string;
  password: string;
}

export function credsArg(creds: Credentials): string {
  return `${creds.user}:${creds.password}`;
}

/** skopeo with the isolated env and signature policy; must succeed. */
export function skopeo(cenv: ContainersEnv, args: readonly string[]): Promise<RunResult> {
  return runOk('skopeo', ['--policy', cenv.policyPath, ...args], { env: cenv.env });
}

/** skopeo that must fail; returns its combined output for matching. */
export function skopeoFailing(
  cenv: ContainersEnv,
  args: readonly string[],
): ReturnType<typeof runFailing> {
  return runFailing('skopeo', ['--policy', cenv.policyPath, ...args], { env: cenv.env });
}

/** podman with the isolated storage and config; must succeed. */
export function podman(
  cenv: ContainersEnv,
  args: readonly string[],
  input?: string,
): Promise<RunResult> {
  return runOk('podman', args, { env: cenv.env, input });
}

/** podman that must fail. */
export function podmanFailing(
  cenv: ContainersEnv,
  args: readonly string[],
  input?: string,
): ReturnType<typeof runFailing> {
  return runFailing('podman', args, { env: cenv.env, input });
}

/** buildah with the isolated storage and config; must succeed. */
export function buildah(cenv: ContainersEnv, args: readonly string[]): Promise<RunResult> {
  return runOk('buildah', args, { env: cenv.env });
}

/** `skopeo inspect --raw` with credentials: the manifest bytes exactly as served. */
export async function inspectRaw(
  cenv: ContainersEnv,
  ref: string,
  creds: Credentials,
): Promise<Buffer> {
  const result = await skopeo(cenv, [
    'inspect',
    '--raw',
    '--tls-verify=false',
    '--creds',
    credsArg(creds),
    ref,
  ]);

  return Buffer.from(result.stdout, 'utf8');
}

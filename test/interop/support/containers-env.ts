import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * An isolated configuration for the containers tools (skopeo, podman, buildah): its own image
 * storage, auth file, signature policy and registries list, all inside `dir`.
 */
export interface ContainersEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** An insecureAcceptAnything policy: pass with --policy (skopeo) or --signature-policy. */
  policyPath: string;
  /** The credentials file the tools read and `podman login` writes (REGISTRY_AUTH_FILE). */
  authFile: string;
}

function toml(value: string): string {
  return JSON.stringify(value);
}

/** Writes storage.conf, containers.conf, registries.conf, policy.json and auth.json under `dir`. */
export async function createContainersEnv(dir: string): Promise<ContainersEnv> {
  const path = (name: string): string => join(dir, name);
  for (const sub of ['home', 'config', 'runtime', 'graph', 'run', 'tmp', 'networks']) {
    await mkdir(path(sub), { recursive: true, mode: 0o700 });
  }

  // vfs needs no kernel overlay or fuse support and no mount privileges.
  await writeFile(
    path('storage.conf'),
    [
      '[storage]',
      'driver = "vfs"',
      `graphroot = ${toml(path('graph'))}`,
      `runroot = ${toml(path('run'))}`,
      '',
    ].join('\n'),
  );

  // No systemd, journald or cgroup delegation here: file events and plain cgroupfs.
  await writeFile(
    path('containers.conf'),
    [
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = ${toml(path('events.log'))}`,
      `tmp_dir = ${toml(path('tmp'))}`,
      '[network]',
      `network_config_dir = ${toml(path('networks'))}`,
      '',
    ].join('\n'),
  );

  // Only fully qualified references: nothing may ever be resolved against a public registry.
  await writeFile(path('registries.conf'), 'unqualified-search-registries = []\n');
  await writeFile(
    path('policy.json'),
    JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }),
  );
  // podman refuses a REGISTRY_AUTH_FILE that does not exist yet.
  await writeFile(path('auth.json'), JSON.stringify({ auths: {} }), { mode: 0o600 });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: path('home'),
    XDG_CONFIG_HOME: path('config'),
    XDG_RUNTIME_DIR: path('runtime'),
    CONTAINERS_STORAGE_CONF: path('storage.conf'),
    CONTAINERS_CONF: path('containers.conf'),
    CONTAINERS_REGISTRIES_CONF: path('registries.conf'),
    REGISTRY_AUTH_FILE: path('auth.json'),
  };
  delete env.DOCKER_CONFIG;

  return { dir, env, policyPath: path('policy.json'), authFile: path('auth.json') };
}

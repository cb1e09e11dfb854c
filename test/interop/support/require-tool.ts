import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Debian package that ships each client these tests drive. */
const DEBIAN_PACKAGES = {
  skopeo: 'skopeo',
  podman: 'podman',
  buildah: 'buildah',
  umoci: 'umoci',
  busybox: 'busybox-static',
} as const;

export type Tool = keyof typeof DEBIAN_PACKAGES;

function findOnPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory; keep looking.
    }
  }

  return undefined;
}

/**
 * Fails (never skips) when a client is missing, naming the Debian package to install.
 * Returns the absolute path of each tool, in the order asked.
 */
export function requireTools(...tools: Tool[]): string[] {
  const missing = tools.filter((tool) => findOnPath(tool) === undefined);
  if (missing.length > 0) {
    const packages = missing.map((tool) => DEBIAN_PACKAGES[tool]).join(' ');
    throw new Error(
      `interop tests need ${missing.join(', ')} on PATH; install the Debian ` +
        `package(s) with: apt-get install -y ${packages}`,
    );
  }

  return tools.map((tool) => findOnPath(tool) ?? tool);
}

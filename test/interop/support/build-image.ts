import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { readLayoutImage, type StoredImage } from './oci-layout.js';
import { runOk } from './run.js';

/** Where the static busybox comes from (Debian busybox-static). */
export const BUSYBOX_PATH = '/usr/bin/busybox';

/** An image built in an OCI layout, plus what the tests expect to find inside it. */
export interface BuiltImage extends StoredImage {
  layoutDir: string;
  tag: string;
  /** The source reference for skopeo/podman: `oci:<dir>:<tag>`. */
  ref: string;
  /** Random text written to /etc/portcullis-test, different on every run. */
  marker: string;
}

/** The files of the two layers: busybox (plus applet links), then small text and random files. */
export async function writeLayerTrees(dir: string, marker: string): Promise<[string, string]> {
  const base = join(dir, 'layer-base');
  const extra = join(dir, 'layer-extra');
  await mkdir(join(base, 'bin'), { recursive: true });
  await copyFile(BUSYBOX_PATH, join(base, 'bin', 'busybox'));
  for (const applet of ['sh', 'ls', 'cat', 'echo']) {
    await symlink('busybox', join(base, 'bin', applet));
  }

  await mkdir(join(extra, 'etc'), { recursive: true });
  await mkdir(join(extra, 'srv'), { recursive: true });
  await writeFile(join(extra, 'etc', 'portcullis-test'), `${marker}\n`);
  await writeFile(join(extra, 'etc', 'motd'), 'built by the Portcullis interop tests\n');
  await writeFile(join(extra, 'srv', 'random.bin'), randomBytes(4096));

  return [base, extra];
}

/** Makes a random marker that identifies one test run's image. */
export function makeMarker(): string {
  return `portcullis-interop ${new Date().toISOString()} ${randomBytes(8).toString('hex')}`;
}

/**
 * Builds a two-layer image with umoci into `<workDir>/layout`: layer 1 holds busybox, layer 2
 * a few small files including a random one, so every run pushes new content.
 */
export async function buildImageWithUmoci(workDir: string, tag = 'app'): Promise<BuiltImage> {
  const layoutDir = join(workDir, 'layout');
  const image = `${layoutDir}:${tag}`;
  const marker = makeMarker();
  const [base, extra] = await writeLayerTrees(join(workDir, 'trees'), marker);

  await runOk('umoci', ['init', '--layout', layoutDir]);
  await runOk('umoci', ['new', '--image', image]);
  await runOk('umoci', ['insert', '--image', image, base, '/']);
  await runOk('umoci', ['insert', '--image', image, extra, '/']);
  await runOk('umoci', [
    'config',
    '--image',
    image,
    '--config.entrypoint',
    '/bin/busybox',
    '--config.cmd',
    'cat',
    '--config.cmd',
    '/etc/portcullis-test',
    '--config.label',
    'org.opencontainers.image.title=portcullis-interop',
  ]);
  // Each umoci step leaves the previous manifest and config behind; drop them.
  await runOk('umoci', ['gc', '--layout', layoutDir]);

  const stored = await readLayoutImage(layoutDir, tag);

  return { ...stored, layoutDir, tag, ref: `oci:${image}`, marker };
}

import { join } from 'node:path';

import { makeMarker, writeLayerTrees } from './build-image.js';
import { buildah } from './clients.js';
import type { ContainersEnv } from './containers-env.js';

/** An image committed to buildah's (isolated) storage. */
export interface BuildahImage {
  name: string;
  /** sha256:<hex> of the config, which is also the image ID. */
  configDigest: string;
  diffIds: string[];
  marker: string;
}

interface BuildahInspect {
  FromImageID: string;
  OCIv1: { rootfs: { diff_ids: string[] } };
}

/**
 * Builds a two-layer image from scratch with buildah: one commit with busybox, then a second
 * container on top of it that adds the small files and sets Entrypoint and Cmd.
 */
export async function buildImageWithBuildah(
  cenv: ContainersEnv,
  workDir: string,
  name: string,
): Promise<BuildahImage> {
  const marker = makeMarker();
  const [base, extra] = await writeLayerTrees(join(workDir, 'trees'), marker);
  const baseName = `${name}-base`;
  const policy = ['--signature-policy', cenv.policyPath];

  await buildah(cenv, ['from', '--name', 'portcullis-base', ...policy, 'scratch']);
  await buildah(cenv, ['copy', 'portcullis-base', `${base}/`, '/']);
  await buildah(cenv, ['commit', ...policy, '--format', 'oci', 'portcullis-base', baseName]);

  await buildah(cenv, ['from', '--name', 'portcullis-top', '--pull=never', ...policy, baseName]);
  await buildah(cenv, ['copy', 'portcullis-top', `${extra}/`, '/']);
  await buildah(cenv, [
    'config',
    '--entrypoint',
    '["/bin/busybox"]',
    '--cmd',
    'cat /etc/portcullis-test',
    'portcullis-top',
  ]);
  await buildah(cenv, ['commit', ...policy, '--format', 'oci', 'portcullis-top', name]);
  await buildah(cenv, ['rm', 'portcullis-base', 'portcullis-top']);

  const result = await buildah(cenv, ['inspect', '--type', 'image', name]);
  const info = JSON.parse(result.stdout) as BuildahInspect;

  return {
    name,
    configDigest: `sha256:${info.FromImageID}`,
    diffIds: info.OCIv1.rootfs.diff_ids,
    marker,
  };
}

/** Manifest media types the registry accepts on PUT (PROTOCOLS.md §1.14). */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const MANIFEST_TYPES: ReadonlySet<string> = new Set([
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
]);

export const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);

/** Layers a registry never receives: clients fetch them from their `urls`. */
export function isNonDistributable(mediaType: string): boolean {
  return (
    mediaType.includes('.nondistributable.') ||
    mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'
  );
}

/** The media type without parameters, lower-cased. */
export function bareMediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

import path from 'node:path';

/**
 * The filesystem layout under the blob root:
 *
 *   <root>/
 *   ├── blobs/
 *   │   └── <algorithm>/<first two hex>/<hex>    finished, verified, content-addressed
 *   └── uploads/
 *       └── <upload id>                          bytes received so far
 *
 * Every path the filesystem driver touches is built here.
 */
export function blobPath(root: string, digest: string): string {
  const [algorithm, hex] = splitDigest(digest);

  return path.join(root, 'blobs', algorithm, hex.slice(0, 2), hex);
}

export function uploadsDir(root: string): string {
  return path.join(root, 'uploads');
}

export function uploadPath(root: string, id: string): string {
  if (!/^[A-Za-z0-9-]{8,64}$/.test(id)) throw new TypeError('upload id has an unexpected shape');

  return path.join(uploadsDir(root), id);
}

function splitDigest(digest: string): [string, string] {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (colon < 1 || !/^[a-z0-9]+$/.test(algorithm) || !/^[a-f0-9]{32,}$/.test(hex)) {
    throw new TypeError('digest has an unexpected shape');
  }

  return [algorithm, hex];
}

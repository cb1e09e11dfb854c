/**
 * Layer paths and whiteouts (image-spec layer.md; PROTOCOLS.md §5.3).
 *
 * A later layer deletes a lower file with an empty `.wh.<name>` entry, or every lower child
 * of a directory with `.wh..wh..opq`. Deletion only hides: the lower blob keeps the bytes and
 * anyone with pull access can fetch it by digest, so hidden findings are kept, marked.
 *
 * Limitation: a later layer that replaces a file with new content (no whiteout) also hides
 * it in the merged view, but scans do not list every path, so such a finding is not marked.
 */

import type { LayerFinding, LayerScan } from './types.js';

const PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** A tar name as a layer-relative path: no leading `./` or `/`, no empty or trailing parts. */
export function normalizePath(name: string): string {
  return name
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/**
 * What a (normalised) entry path means as a whiteout: the path it hides (`dir/` for an
 * opaque directory, `/` for the root), `'ignore'` for other `.wh.` names that are metadata
 * or invalid (a bare `.wh.`), or undefined for an ordinary entry.
 */
export function whiteoutOf(path: string): string | 'ignore' | undefined {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (!base.startsWith(PREFIX)) return undefined;

  const dir = path.slice(0, slash + 1);
  if (base === OPAQUE) return dir === '' ? '/' : dir;
  // `.wh..wh.<x>` names are AUFS bookkeeping, not deletions; a bare `.wh.` names nothing.
  if (base.startsWith(PREFIX + PREFIX) || base === PREFIX) return 'ignore';

  return dir + base.slice(PREFIX.length);
}

/** Whether one layer's whiteouts hide `path` from the layers below it. */
function hides(explicit: Set<string>, opaque: Set<string>, path: string): boolean {
  if (opaque.has('/')) return true;
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
    const ancestor = path.slice(0, slash);
    if (explicit.has(ancestor) || opaque.has(`${ancestor}/`)) return true;
  }

  return explicit.has(path);
}

/**
 * Places each layer's findings in its layer and marks those a later layer deletes.
 *
 * @param layers in manifest order, base layer first
 * @returns every finding of every layer; `hiddenBy` is the first later layer that hides it
 */
export function applyWhiteouts(layers: { digest: string; scan: LayerScan }[]): LayerFinding[] {
  const sets = layers.map(({ scan }) => ({
    explicit: new Set(scan.whiteouts.filter((w) => !w.endsWith('/'))),
    opaque: new Set(scan.whiteouts.filter((w) => w.endsWith('/'))),
  }));

  return layers.flatMap(({ digest, scan }, index) =>
    scan.findings.map((finding) => {
      const placed: LayerFinding = { ...finding, layer: digest };
      for (let later = index + 1; later < layers.length; later++) {
        const { explicit, opaque } = sets[later]!;
        if (hides(explicit, opaque, finding.path)) {
          placed.hiddenBy = layers[later]!.digest;
          break;
        }
      }
      return placed;
    }),
  );
}

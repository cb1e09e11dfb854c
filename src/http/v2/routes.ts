import type { Action } from '../../access/roles.js';
import { deleteBlob, getBlob } from './blobs.js';
import type { V2Context } from './context.js';
import { getReferrers, getTags } from './listing.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { cancelUpload, completeUpload, patchUpload, startUpload, uploadStatus } from './uploads.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One `/v2/<name>/…` endpoint: what it matches, what it needs, who handles it. */
export interface V2Route {
  id: string;
  method: Method;
  /** The resource path after the repository name; `:param` is one segment. */
  resource: 'blobs/:param' | 'blobs/uploads/' | 'blobs/uploads/:param' | 'manifests/:param' | 'tags/list' | 'referrers/:param';
  /** Actions required on `repository:<name>` (PROTOCOLS.md §2.2). */
  actions: Action[];
  handler: (ctx: V2Context) => Promise<void>;
}

/** Every repository endpoint of the OCI Distribution Spec, with the spec's ids. */
export const V2_ROUTES: readonly V2Route[] = [
  { id: 'end-2', method: 'GET', resource: 'blobs/:param', actions: ['pull'], handler: getBlob },
  { id: 'end-2', method: 'HEAD', resource: 'blobs/:param', actions: ['pull'], handler: getBlob },
  { id: 'end-10', method: 'DELETE', resource: 'blobs/:param', actions: ['delete'], handler: deleteBlob },
  { id: 'end-4', method: 'POST', resource: 'blobs/uploads/', actions: ['pull', 'push'], handler: startUpload },
  { id: 'end-5', method: 'PATCH', resource: 'blobs/uploads/:param', actions: ['pull', 'push'], handler: patchUpload },
  { id: 'end-6', method: 'PUT', resource: 'blobs/uploads/:param', actions: ['pull', 'push'], handler: completeUpload },
  { id: 'end-13', method: 'GET', resource: 'blobs/uploads/:param', actions: ['pull', 'push'], handler: uploadStatus },
  { id: 'end-14', method: 'DELETE', resource: 'blobs/uploads/:param', actions: ['pull', 'push'], handler: cancelUpload },
  { id: 'end-3', method: 'GET', resource: 'manifests/:param', actions: ['pull'], handler: getManifest },
  { id: 'end-3', method: 'HEAD', resource: 'manifests/:param', actions: ['pull'], handler: getManifest },
  { id: 'end-7', method: 'PUT', resource: 'manifests/:param', actions: ['pull', 'push'], handler: putManifest },
  { id: 'end-9', method: 'DELETE', resource: 'manifests/:param', actions: ['delete'], handler: deleteManifest },
  { id: 'end-8', method: 'GET', resource: 'tags/list', actions: ['pull'], handler: getTags },
  { id: 'end-12', method: 'GET', resource: 'referrers/:param', actions: ['pull'], handler: getReferrers },
];

export interface RouteMatch {
  name: string;
  param: string;
  /** Routes for this resource, whatever their method (to tell 404 from 405). */
  candidates: V2Route[];
  route: V2Route | undefined;
}

const SUFFIXES: ReadonlyArray<[V2Route['resource'], RegExp]> = [
  ['blobs/uploads/', /^(.+)\/blobs\/uploads\/?$/],
  ['blobs/uploads/:param', /^(.+)\/blobs\/uploads\/([^/]+)$/],
  ['blobs/:param', /^(.+)\/blobs\/([^/]+)$/],
  ['manifests/:param', /^(.+)\/manifests\/([^/]+)$/],
  ['tags/list', /^(.+)\/tags\/list$/],
  ['referrers/:param', /^(.+)\/referrers\/([^/]+)$/],
];

/**
 * Matches the path after `/v2/` from its right-hand end, since repository names may contain
 * components such as `blobs` or `manifests` (PROTOCOLS.md §1.12). The name is not validated.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  for (const [resource, pattern] of SUFFIXES) {
    const m = pattern.exec(path);
    if (!m) continue;
    const candidates = V2_ROUTES.filter((r) => r.resource === resource);
    const route = candidates.find((r) => r.method === method);

    return { name: m[1]!, param: decodeURIComponent(m[2] ?? ''), candidates, route };
  }

  return undefined;
}

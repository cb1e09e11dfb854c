import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RegistryClient } from '../helpers/client.js';

interface Descriptor {
  mediaType: string;
  digest: string;
  annotations?: Record<string, string>;
}

/**
 * Pushes everything an OCI image layout holds into `repository`: blobs, then manifests
 * (children before their index), each tagged as the layout's `index.json` names it or as `tags`
 * (digest → tag) says, for layouts such as `cosign save` writes, which name no tags.
 */
export async function pushLayout(client: RegistryClient, layout: string, repository: string, tags: Record<string, string> = {}): Promise<void> {
  const blob = (digest: string) => readFileSync(path.join(layout, 'blobs', ...digest.split(':')));
  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const pushed = new Set<string>();
  const push = async (d: Descriptor, tag?: string) => {
    if (pushed.has(d.digest) && !tag) return;
    const bytes = blob(d.digest);
    const doc = JSON.parse(bytes.toString('utf8')) as { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    for (const child of doc.manifests ?? []) await push(child);
    for (const part of [doc.config, ...(doc.layers ?? [])]) {
      if (part && !pushed.has(part.digest)) {
        await client.pushBlob(repository, blob(part.digest));
        pushed.add(part.digest);
      }
    }
    const res = await client.request(`/v2/${repository}/manifests/${tag ?? d.digest}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': d.mediaType } });
    if (res.status !== 201) throw new Error(`pushing ${d.digest} gave ${res.status}: ${await res.text()}`);
    pushed.add(d.digest);
  };
  for (const d of index.manifests) await push(d, d.annotations?.['org.opencontainers.image.ref.name'] ?? tags[d.digest]);
}

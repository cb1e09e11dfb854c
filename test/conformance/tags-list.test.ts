import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../helpers/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  call,
  expectError,
  OCI_MANIFEST,
  pushImage,
  putManifest,
  stopRegistry,
  type PushedImage,
} from './support/oci.js';

// end-8a/8b (PROTOCOLS.md §1.8).
let registry: TestRegistry;
let client: RegistryClient;
const repo = 'team/tags';
// Chosen so that byte order and case-insensitive order agree.
const tags = ['v2', '0.1', 'beta', 'v10', 'alpha', 'v1', 'rc_1'];
const sorted = ['0.1', 'alpha', 'beta', 'rc_1', 'v1', 'v10', 'v2'];
let image: PushedImage;

beforeAll(async () => {
  registry = await startRegistry();
  client = new RegistryClient(registry.url, 'admin', registry.adminPassword);
  image = await pushImage(client, repo, tags[0]!);
  for (const tag of tags.slice(1)) {
    expect((await putManifest(client, repo, tag, image.manifest, OCI_MANIFEST)).status).toBe(201);
  }
});
afterAll(() => stopRegistry(registry));

const list = (path: string, repository = repo) => call(client, repository, path);

async function fetchTags(query: string, repository = repo) {
  const res = await list(`/v2/${repository}/tags/list${query}`, repository);
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const text = await res.text();
  const body = JSON.parse(text) as { name: string; tags: string[] };
  expect(body.name).toBe(repository);

  return { res, text, tags: body.tags, link: res.headers.get('link') };
}

describe('GET /v2/:name/tags/list', () => {
  it('lists every tag, sorted', async () => {
    const { tags: listed, link } = await fetchTags('');
    expect(listed).toEqual(sorted);
    expect(link).toBeNull();
  });

  it('returns n tags and a Link to the next page while more remain', async () => {
    const { tags: first, link } = await fetchTags('?n=2');
    expect(first).toEqual(['0.1', 'alpha']);
    expect(link).toBe(`</v2/${repo}/tags/list?n=2&last=alpha>; rel="next"`);
  });

  it('walks every tag exactly once by following Link headers', async () => {
    const seen: string[] = [];
    let next: string | null = `/v2/${repo}/tags/list?n=3`;
    for (let pages = 0; next !== null; pages++) {
      expect(pages).toBeLessThan(10);
      const res = await list(next);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { tags: string[] };
      expect(body.tags.length).toBeLessThanOrEqual(3);
      seen.push(...body.tags);
      next = /^<([^>]+)>;\s*rel="next"$/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
    }
    expect(seen).toEqual(sorted);
  });

  it('starts strictly after `last`, with or without n', async () => {
    expect((await fetchTags('?last=beta')).tags).toEqual(['rc_1', 'v1', 'v10', 'v2']);
    expect((await fetchTags('?n=2&last=beta')).tags).toEqual(['rc_1', 'v1']);
  });

  it('treats `last` as a value, not an index: a name between tags works', async () => {
    expect((await fetchTags('?last=b')).tags).toEqual(['beta', 'rc_1', 'v1', 'v10', 'v2']);
    expect((await fetchTags('?last=zzz')).tags).toEqual([]);
  });

  it('answers an empty list and no Link for n=0', async () => {
    const { tags: listed, link } = await fetchTags('?n=0');
    expect(listed).toEqual([]);
    expect(link).toBeNull();
  });

  it('sends no Link when n covers the rest exactly', async () => {
    const { tags: listed, link } = await fetchTags(`?n=${sorted.length}`);
    expect(listed).toEqual(sorted);
    expect(link).toBeNull();
  });

  it.each(['-1', 'abc', '1.5', ''])('answers 400 PAGINATION_NUMBER_INVALID for n=%s', async (n) => {
    await expectError(await list(`/v2/${repo}/tags/list?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
  });

  it('answers 404 NAME_UNKNOWN for a repository that does not exist', async () => {
    await expectError(
      await list('/v2/team/no-such-repo/tags/list', 'team/no-such-repo'),
      404,
      'NAME_UNKNOWN',
    );
  });

  it('orders mixed-case tags either byte-wise or case-insensitively', async () => {
    const mixed = 'team/tags-mixed-case';
    const pushed = await pushImage(client, mixed, 'b');
    for (const tag of ['B', 'a', 'A_1']) {
      expect((await putManifest(client, mixed, tag, pushed.manifest, OCI_MANIFEST)).status).toBe(
        201,
      );
    }
    const { tags: listed } = await fetchTags('', mixed);
    expect([
      ['A_1', 'B', 'a', 'b'],
      ['a', 'A_1', 'b', 'B'],
      ['A_1', 'a', 'B', 'b'],
    ]).toContainEqual(listed);
  });

  it('answers "tags": [] (not null) once every tag is deleted', async () => {
    const emptied = 'team/tags-emptied';
    const pushed = await pushImage(client, emptied, 'only');
    expect(
      (await call(client, emptied, `/v2/${emptied}/manifests/only`, { method: 'DELETE' })).status,
    ).toBe(202);
    const { tags: listed, text } = await fetchTags('', emptied);
    expect(listed).toEqual([]);
    expect(text).toMatch(/"tags"\s*:\s*\[\s*\]/);
    expect((await call(client, emptied, `/v2/${emptied}/manifests/${pushed.digest}`)).status).toBe(
      200,
    );
  });
});

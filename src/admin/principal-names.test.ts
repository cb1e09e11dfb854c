import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userPrincipal } from '../identity/directory.js';
import { robotPrincipal } from '../identity/robots.js';
import { rulePrincipal } from '../storage/metadata/federation.js';
import { openMetadataStore, type MetadataStore } from '../storage/metadata/index.js';
import { principalNamer } from './principal-names.js';

describe('principalNamer', () => {
  let dataDir: string;
  let store: MetadataStore;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'portcullis-names-'));
    store = await openMetadataStore('sqlite', dataDir);
    await store.principals.createNamespace('team', null);
    ids.alice = userPrincipal((await store.principals.createUser('alice', 'unused')).id);
    ids.ci = robotPrincipal((await store.robots.create({ name: 'ci', namespace: 'team', role: 'writer', secretHash: 'unused', expiresAt: Date.now() + 86_400_000 })).id);
    await store.federation.addIssuer({ alias: 'idp', kind: 'oidc', issuer: 'https://idp.invalid', audiences: ['portcullis'], algorithms: ['RS256'], jwksUri: null, jwksFile: null });
    const rule = await store.federation.addRule({ name: 'gha', issuerAlias: 'idp', conditions: { repository: 'org/app' }, grants: [], mixedEnvironments: false });
    ids.gha = rulePrincipal(rule!.id);
  });
  afterAll(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('names users, robots and federation rules the way an administrator types them', async () => {
    const nameOf = await principalNamer(store, Object.values(ids));
    expect([ids.alice, ids.ci, ids.gha].map((id) => nameOf(id!))).toEqual(['alice', 'robot+ci', 'rule+gha']);
  });

  it('leaves names that are already names, and ids whose holder is gone, as they are', async () => {
    const gone = userPrincipal('00000000-0000-0000-0000-000000000000');
    const kept = ['api:ops', 'cli:root', 'portcullis', 'group:devs', gone];
    const nameOf = await principalNamer(store, kept);
    expect(kept.map(nameOf)).toEqual(kept);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminError } from '../../src/admin/errors.js';
import { ExplainAdmin, type Explanation } from '../../src/admin/explain.js';
import { groupPrincipal, userPrincipal } from '../../src/identity/directory.js';
import { rulePrincipal } from '../../src/storage/metadata/federation.js';
import { openMetadataStore, type MetadataStore } from '../../src/storage/metadata/index.js';

/** Stored in place of every password and secret hash, so a leak would show. */
const SECRET = 'hash-that-must-never-be-shown';

describe('explain and who-can over a real SQLite store', () => {
  let dataDir: string;
  let store: MetadataStore;
  let explainer: ExplainAdmin;

  const user = async (name: string, bindings: Array<[string, string]>) => {
    const u = await store.principals.createUser(name, SECRET);
    for (const [namespace, role] of bindings) await store.principals.grant(userPrincipal(u.id), namespace, role);
  };
  const person = async (name: string, groups: string[]) => {
    await store.principals.people.create(name, SECRET, `https://idp.invalid|${name}`, groups);
  };
  const explain = (subject: string, repository: string, action: string, address?: string) =>
    explainer.explain({ subject, repository, action, address });
  const outcomes = (e: Explanation) => e.steps.map((s) => `${s.stage}:${s.outcome}`);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'portcullis-explain-'));
    store = await openMetadataStore('sqlite', dataDir);
    await store.principals.createNamespace('team', null);
    await store.principals.createNamespace('edge', null);
    await store.principals.createNamespace('shop', 'prod');
    await store.addressRules.setNamespace('edge', ['192.0.2.0/24']);

    await user('alice', [['team', 'writer']]);
    await user('bob', [['team', 'reader']]);
    await user('carol', []);
    await user('dave', [['team', 'reader']]);
    await store.principals.setDisabled('dave', true);
    await user('edgy', [['edge', 'reader']]);

    await store.robots.create({ name: 'ci', namespace: 'team', role: 'writer', secretHash: SECRET, expiresAt: Date.now() + 86_400_000 });
    await store.addressRules.setRobot('ci', ['10.0.0.0/8']);
    await store.robots.create({ name: 'old', namespace: 'team', role: 'reader', secretHash: SECRET, expiresAt: Date.now() - 86_400_000 });

    await store.federation.addIssuer({ alias: 'ci-idp', kind: 'oidc', issuer: 'https://idp.invalid', audiences: ['portcullis'], algorithms: ['RS256'], jwksUri: null, jwksFile: null });
    const rule = await store.federation.addRule({ name: 'gha', issuerAlias: 'ci-idp', conditions: { repository: 'org/app' }, grants: [], mixedEnvironments: false });
    await store.principals.grant(rulePrincipal(rule!.id), 'team', 'reader');

    await store.principals.grant(groupPrincipal('devs'), 'team', 'writer');
    await store.principals.grant(groupPrincipal('ops'), 'shop', 'reader');
    await person('erin', ['devs']);
    // devs reaches team (unlabelled) and ops reaches shop (prod): together they would mix.
    await person('frank', ['devs', 'ops']);

    explainer = new ExplainAdmin(store);
  });
  afterAll(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('allows a user through a namespace binding and names the binding', async () => {
    const e = await explain('alice', 'team/app', 'push');
    expect(e.outcome).toBe('allow');
    expect(e.steps).toEqual([
      { stage: 'identity', outcome: 'pass', detail: 'user alice: enabled' },
      { stage: 'bindings', outcome: 'pass', detail: 'push granted by writer on namespace team' },
      { stage: 'network', outcome: 'pass', detail: 'no address rules apply' },
      { stage: 'trust', outcome: 'skip', detail: 'no trust policy configured' },
    ]);
  });

  it('denies for lack of a binding, and skips the later stages', async () => {
    const bob = await explain('bob', 'team/app', 'push');
    expect(bob.outcome).toBe('deny');
    expect(outcomes(bob)).toEqual(['identity:pass', 'bindings:fail', 'network:skip', 'trust:skip']);
    expect(bob.steps[1]!.detail).toBe('no binding grants push on team/app (reader on namespace team)');
    expect(bob.steps[2]!.detail).toBe('not checked: an earlier stage failed');

    const carol = await explain('carol', 'team/app', 'pull');
    expect(carol.steps[1]!.detail).toBe('no binding grants pull on team/app (no binding covers this repository)');
  });

  it('checks a robot restricted by CIDR against the given address, or says it depends', async () => {
    const inside = await explain('robot+ci', 'team/app', 'push', '10.1.2.3');
    expect(inside.outcome).toBe('allow');
    expect(inside.steps[2]).toEqual({ stage: 'network', outcome: 'pass', detail: '10.1.2.3 is allowed: credential allows 10.0.0.0/8' });

    const outside = await explain('robot+ci', 'team/app', 'push', '192.168.1.1');
    expect(outside.outcome).toBe('deny');
    expect(outside.steps[2]).toEqual({
      stage: 'network',
      outcome: 'fail',
      detail: "address 192.168.1.1 is outside the credential's allowed networks (credential allows 10.0.0.0/8)",
    });
    expect(outside.steps[3]!.outcome).toBe('skip');

    const unknown = await explain('robot+ci', 'team/app', 'push');
    expect(unknown.outcome).toBe('allow');
    expect(unknown.steps[2]).toEqual({ stage: 'network', outcome: 'skip', detail: 'depends on the client address: credential allows 10.0.0.0/8' });
  });

  it('marks an allow that depends on an unchecked stage as conditional, naming the stage', async () => {
    const withTrust = new ExplainAdmin(store, () => Promise.resolve({ outcome: 'pass', detail: 'no trust policy' }));
    const network = { stage: 'network', outcome: 'skip', detail: 'depends on the client address: credential allows 10.0.0.0/8' };
    expect(await withTrust.explain({ subject: 'robot+ci', repository: 'team/app', action: 'push' })).toMatchObject({ outcome: 'allow', conditional: true, conditions: [network] });
    expect(await withTrust.explain({ subject: 'robot+ci', repository: 'team/app', action: 'push', address: '10.1.2.3' })).toMatchObject({ outcome: 'allow', conditional: false, conditions: [] });
    // A deny is never conditional, though the stages after the failure are skipped too.
    expect(await withTrust.explain({ subject: 'bob', repository: 'team/app', action: 'push' })).toMatchObject({ outcome: 'deny', conditional: false, conditions: [] });
  });

  it("applies a namespace's address rule", async () => {
    const e = await explain('edgy', 'edge/app', 'pull', '198.51.100.7');
    expect(e.steps[2]).toEqual({
      stage: 'network',
      outcome: 'fail',
      detail: 'address 198.51.100.7 is outside the allowed networks of namespace edge (namespace edge allows 192.0.2.0/24)',
    });
    expect((await explain('edgy', 'edge/app', 'pull', '192.0.2.9')).outcome).toBe('allow');
  });

  it('stops at identity for a disabled user and an expired robot', async () => {
    const dave = await explain('dave', 'team/app', 'pull');
    expect(dave.outcome).toBe('deny');
    expect(outcomes(dave)).toEqual(['identity:fail', 'bindings:skip', 'network:skip', 'trust:skip']);
    expect(dave.steps[0]!.detail).toBe('user dave: disabled');

    const old = await explain('robot+old', 'team/app', 'pull');
    expect(old.steps[0]!.outcome).toBe('fail');
    expect(old.steps[0]!.detail).toMatch(/^robot\+old \(robot of namespace team, expires .*\): expired$/);
  });

  it("grants a person its group's binding, and leaves groups out when they would mix environments", async () => {
    const erin = await explain('erin', 'team/app', 'push');
    expect(erin.outcome).toBe('allow');
    expect(erin.steps[0]!.detail).toBe('person erin (signs in through the OpenID provider; groups at last sign-in: devs): enabled');
    expect(erin.steps[1]!.detail).toBe('push granted by writer on namespace team (via group:devs)');

    const frank = await explain('frank', 'team/app', 'push');
    expect(frank.outcome).toBe('deny');
    expect(frank.steps[1]!.detail).toBe(
      'no binding grants push on team/app (no binding covers this repository); the bindings of its groups are left out: with its own they would reach production and non-production namespaces',
    );

    const group = await explain('group:devs', 'team/app', 'push');
    expect(group.outcome).toBe('allow');
    expect(group.steps[1]!.detail).toBe('push granted by writer on namespace team (via group:devs)');
  });

  it('explains a federation rule', async () => {
    const e = await explain('rule+gha', 'team/app', 'pull');
    expect(e.outcome).toBe('allow');
    expect(e.steps[0]!.detail).toBe('rule+gha (federation rule of issuer ci-idp): enabled');
    expect(e.steps[1]!.detail).toBe('pull granted by reader on namespace team');
  });

  it('asks a plugged-in trust policy last, and denies when it fails', async () => {
    const asked: string[] = [];
    const withTrust = new ExplainAdmin(store, async (repository, action) => {
      asked.push(`${action} ${repository}`);
      return { outcome: 'fail', detail: 'no signature from a trusted identity' };
    });
    const e = await withTrust.explain({ subject: 'alice', repository: 'team/app', action: 'pull' });
    expect(e.outcome).toBe('deny');
    expect(e.steps[3]).toEqual({ stage: 'trust', outcome: 'fail', detail: 'no signature from a trusted identity' });
    await withTrust.explain({ subject: 'bob', repository: 'team/app', action: 'push' });
    expect(asked).toEqual(['pull team/app']);
  });

  it('lists exactly the principals who can, marking disabled and expired ones', async () => {
    const push = await explainer.whoCan({ repository: 'team/app', action: 'push' });
    expect(push).toEqual([
      { subject: 'alice', kind: 'user', grantedBy: ['writer on namespace team'], networks: [], disabled: false, expired: false },
      { subject: 'erin', kind: 'person', grantedBy: ['writer on namespace team (via group:devs)'], networks: [], disabled: false, expired: false },
      { subject: 'robot+ci', kind: 'robot', grantedBy: ['writer on namespace team'], networks: [{ by: 'credential', cidrs: ['10.0.0.0/8'] }], disabled: false, expired: false },
      { subject: 'group:devs', kind: 'group', grantedBy: ['writer on namespace team (via group:devs)'], networks: [], disabled: false, expired: false },
    ]);

    const pull = await explainer.whoCan({ repository: 'team/app', action: 'pull' });
    expect(pull.map((e) => e.subject)).toEqual(['alice', 'bob', 'dave', 'erin', 'robot+ci', 'robot+old', 'rule+gha', 'group:devs']);
    expect(pull.find((e) => e.subject === 'dave')).toMatchObject({ disabled: true, expired: false });
    expect(pull.find((e) => e.subject === 'robot+old')).toMatchObject({ disabled: false, expired: true });

    const edge = await explainer.whoCan({ repository: 'edge/app', action: 'pull' });
    expect(edge).toEqual([{ subject: 'edgy', kind: 'user', grantedBy: ['reader on namespace edge'], networks: [{ by: 'namespace edge', cidrs: ['192.0.2.0/24'] }], disabled: false, expired: false }]);
  });

  it('refuses unknown subjects, bad repositories, actions and addresses, and never shows a secret', async () => {
    const refusal = (work: Promise<unknown>) => work.then(() => undefined, (err: unknown) => err as AdminError);
    expect(await refusal(explain('nobody', 'team/app', 'pull'))).toMatchObject({ kind: 'missing', message: expect.stringContaining('no subject "nobody"') });
    expect(await refusal(explain('robot+nobody', 'team/app', 'pull'))).toMatchObject({ kind: 'missing' });
    expect(await refusal(explain('alice', 'Team/App', 'pull'))).toMatchObject({ kind: 'invalid', message: '"Team/App" is not a valid repository name' });
    expect(await refusal(explain('alice', 'team/app', 'admin'))).toMatchObject({ kind: 'invalid', message: 'action must be one of pull, push, delete' });
    expect(await refusal(explain('alice', 'team/app', 'pull', '10.0.0.0/8'))).toMatchObject({ kind: 'invalid' });
    expect(await refusal(explainer.whoCan({ repository: 'team/../x', action: 'pull' }))).toMatchObject({ kind: 'invalid' });

    const explanations = await Promise.all(['alice', 'robot+ci', 'rule+gha', 'erin', 'group:devs'].map((s) => explain(s, 'team/app', 'pull')));
    const listing = await explainer.whoCan({ repository: 'team/app', action: 'pull' });
    expect(JSON.stringify([explanations, listing])).not.toContain(SECRET);
  });
});

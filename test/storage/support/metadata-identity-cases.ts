import { describe, expect, it } from 'vitest';
import { linkHash } from '../../../src/audit/chain.js';
import type { MetadataHarness } from '../metadata-suite.js';

const issuer = { alias: 'ci', kind: 'oidc' as const, issuer: 'https://ci.example.test', audiences: ['reg'], algorithms: ['RS256'], jwksUri: null, jwksFile: null };
const event = (at: number) => ({
  at, node: 'n', requestId: null, action: 'blob.pull', outcome: 'allowed', reason: null, principal: 'user:1', credential: 'alice',
  tokenId: null, federated: null, address: '10.0.0.1', userAgent: null, repository: 'team/app', reference: null, digest: 'sha256:aa', bytes: 3,
});

/** FederationStore and the audit log's export leases and pruning, on every engine. */
export function identityCases(current: () => MetadataHarness): void {
  const store = () => current().store;

  describe('federation', () => {
    it('stores issuers and rules with their bindings, tried oldest first, and removes them together', async () => {
      expect(await store().federation.addIssuer(issuer)).toBe(true);
      expect(await store().federation.addIssuer(issuer)).toBe(false);
      await store().principals.createNamespace('team', null);
      const rule = await store().federation.addRule({ name: 'r1', issuerAlias: 'ci', conditions: { repository: ['a', 'b'] }, grants: [{ namespace: 'team', role: 'writer' }], mixedEnvironments: false });
      await store().federation.addRule({ name: 'r2', issuerAlias: 'ci', conditions: { sub: 'x' }, grants: [], mixedEnvironments: true });
      expect((await store().federation.rules()).map((r) => r.name)).toEqual(['r1', 'r2']);
      expect(await store().federation.removeIssuer('ci')).toBe('in-use');
      await store().federation.markRuleUsed(rule!.id, 5, 'repo:a', '10.0.0.1');
      expect(await store().federation.ruleByName('r1')).toMatchObject({ conditions: { repository: ['a', 'b'] }, lastUsedAt: 5, lastUsedSubject: 'repo:a' });
      expect((await store().principals.listBindings()).filter((b) => b.principal === `rule:${rule!.id}`)).toHaveLength(1);
      expect(await store().federation.removeRule('r1')).toBe(true);
      expect((await store().principals.listBindings()).filter((b) => b.principal === `rule:${rule!.id}`)).toHaveLength(0);
      await store().federation.removeRule('r2');
      expect(await store().federation.removeIssuer('ci')).toBe('removed');
    });
  });

  describe('audit log', () => {
    it('gives an export lease to one holder at a time and keeps its progress', async () => {
      const now = Date.now();
      expect(await store().audit.claimExport('siem', 'node-a', now, 30_000)).toBe(0);
      expect(await store().audit.claimExport('siem', 'node-b', now, 30_000)).toBeUndefined();
      await store().audit.advanceExport('siem', 'node-a', 7);
      await store().audit.advanceExport('siem', 'node-b', 9);
      expect(await store().audit.claimExport('siem', 'node-b', now + 31_000, 30_000)).toBe(7);
    });

    it('prunes old events behind a summary and keeps the rest chained', async () => {
      const rows = await store().audit.append([event(1000), event(2000), event(3000)], linkHash);
      const summary = await store().audit.prune(2500, async (range) => ({ ...range, at: 1, kid: 'k', publicJwk: '{}', signature: 's' }));
      expect(summary).toMatchObject({ firstSeq: 1, lastSeq: 2, events: 2, lastHash: rows[1]!.hash });
      expect((await store().audit.page(0, 10)).map((r) => r.seq)).toEqual([3]);
      expect((await store().audit.summaries()).map((s) => s.lastSeq)).toEqual([2]);
    });
  });
}

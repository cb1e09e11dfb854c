import { RULE_PREFIX } from '../identity/federation/service.js';
import { ROBOT_PREFIX } from '../identity/robots.js';
import type { AuditFilter, AuditRow, MetadataStore } from '../storage/metadata/index.js';
import type { CredentialAdmin } from './credentials.js';
import { missing } from './errors.js';
import type { FederationAdmin } from './federation.js';
import type { PeopleAdmin } from './people.js';

/** What a credential did with content: pulls, pushes, mounts and deletes. */
const CONTENT = ['manifest.pull', 'blob.pull', 'manifest.push', 'blob.push', 'blob.mount', 'manifest.delete', 'blob.delete'];
const PULLS = ['manifest.pull', 'blob.pull'];
const PAGE = 5000;

export interface CredentialIncident {
  credential: string;
  since: string;
  /** What was done to cut the credential off. */
  actions: string[];
  activity: Array<Pick<AuditRow, 'seq' | 'action' | 'repository' | 'reference' | 'digest' | 'address' | 'bytes'> & { at: string }>;
  addresses: string[];
  /** Other credentials seen from the same addresses since the same time. */
  alsoFromTheseAddresses: Array<{ credential: string; address: string; events: number }>;
}

/**
 * Incident response over the audit log: cut a credential off and say what it took, and say who
 * pulled a given digest.
 */
export class IncidentAdmin {
  constructor(
    private readonly store: MetadataStore,
    private readonly people: PeopleAdmin,
    private readonly credentials: CredentialAdmin,
    private readonly federation: FederationAdmin,
  ) {}

  /**
   * Disables the credential (user, `robot+NAME` or `rule+NAME`), revokes every token minted
   * from it, and reports its content activity since `since` with the addresses it came from and
   * the other credentials seen from those addresses.
   */
  async credential(name: string, since: number, actor: string): Promise<CredentialIncident> {
    const actions: string[] = [];
    const reason = 'incident response';
    if (name.startsWith(ROBOT_PREFIX)) {
      const robot = name.slice(ROBOT_PREFIX.length);
      await this.credentials.setRobotDisabled(robot, true);
      actions.push(`disabled ${name}`, (await this.credentials.revoke({ robot, actor, reason })).description);
    } else if (name.startsWith(RULE_PREFIX)) {
      const rule = name.slice(RULE_PREFIX.length);
      await this.federation.setRuleDisabled(rule, true);
      actions.push(`disabled ${name}`, (await this.credentials.revoke({ rule, actor, reason })).description);
    } else {
      if (!(await this.store.principals.userByName(name))) throw missing(`no user "${name}" (robots are robot+NAME, federation rules rule+NAME)`);
      await this.people.setUserDisabled(name, true);
      actions.push(`disabled user ${name}`, (await this.credentials.revoke({ user: name, actor, reason })).description);
    }
    const activity = await this.all({ credential: name, actions: CONTENT, since });
    const addresses = [...new Set(activity.map((r) => r.address).filter((a): a is string => a !== null))].sort();
    const others = new Map<string, { credential: string; address: string; events: number }>();
    for (const address of addresses) {
      for (const row of await this.all({ address, since, outcome: undefined })) {
        if (!row.credential || row.credential === name) continue;
        const key = `${row.credential} ${address}`;
        const entry = others.get(key) ?? { credential: row.credential, address, events: 0 };
        entry.events += 1;
        others.set(key, entry);
      }
    }

    return {
      credential: name,
      since: new Date(since).toISOString(),
      actions,
      activity: activity.map((r) => ({ seq: r.seq, at: new Date(r.at).toISOString(), action: r.action, repository: r.repository, reference: r.reference, digest: r.digest, address: r.address, bytes: r.bytes })),
      addresses,
      alsoFromTheseAddresses: [...others.values()].sort((a, b) => a.credential.localeCompare(b.credential) || a.address.localeCompare(b.address)),
    };
  }

  /** Every successful pull of `digest` since `since`: who, when, from where. */
  async digest(digest: string, since?: number) {
    const rows = await this.all({ digest, actions: PULLS, outcome: 'allowed', since });

    return rows.map((r) => ({ at: new Date(r.at).toISOString(), credential: r.credential, principal: r.principal, federated: r.federated, address: r.address, repository: r.repository, action: r.action, bytes: r.bytes }));
  }

  private async all(filter: AuditFilter): Promise<AuditRow[]> {
    const rows: AuditRow[] = [];
    for (let after = 0; ; ) {
      const page = await this.store.audit.query({ outcome: 'allowed', ...filter }, after, PAGE);
      rows.push(...page);
      if (page.length < PAGE) return rows;
      after = page.at(-1)!.seq;
    }
  }
}

import type { X509Certificate } from 'node:crypto';
import type { IssuerConfig } from '../../config/schema.js';
import type { IssuerRecord, MetadataStore, RuleRecord } from '../../storage/metadata/index.js';
import { rulePrincipal } from '../../storage/metadata/federation.js';
import type { Authenticated } from '../authenticate.js';
import type { Directory } from '../directory.js';
import { conditionsHold, firstMiss } from './claims.js';
import { issuerKeys, type IssuerKeys } from './keys.js';
import { chainsTo, parseSpiffeId, svidIdentity } from './spiffe.js';
import { FederationRefusal, peek, verifyExternal } from './verify.js';

/** The sign-in name of a federation rule's principal, as logs and listings show it. */
export const RULE_PREFIX = 'rule+';

interface Loaded {
  generation: string;
  issuers: Map<string, IssuerRecord>;
  rules: RuleRecord[];
}

/**
 * Turns external workload credentials into registry principals: OIDC/JWT tokens from trusted
 * issuers, SPIFFE JWT-SVIDs, and X.509-SVIDs presented over mTLS. Issuers come from the
 * configuration and the store (the configuration wins on an alias both define); rules are tried
 * oldest first and the first whose conditions all hold decides who the workload is.
 */
export class Federation {
  private loaded: Loaded | undefined;
  private readonly keys = new Map<string, { definition: string; keys: IssuerKeys }>();

  constructor(
    private readonly store: MetadataStore,
    private readonly directory: Directory,
    private readonly configured: IssuerConfig[],
    private readonly options: { cooldownMs: number },
  ) {}

  /** True when `name` is the alias of a trusted issuer (so a password is a token from it). */
  async isIssuerAlias(name: string): Promise<boolean> {
    return (await this.current()).issuers.has(name);
  }

  /**
   * The principal an external token stands for. With `alias`, only that issuer may verify it;
   * otherwise the issuer is found from the token's `iss` (OIDC) or its SPIFFE ID's trust domain.
   */
  async token(token: string, address: string, alias?: string): Promise<Authenticated> {
    const state = await this.current();
    const issuer = alias === undefined ? this.issuerFor(state, token) : state.issuers.get(alias);
    if (!issuer) throw new FederationRefusal('unknown-issuer', 'no trusted issuer matches the token');
    const claims = await verifyExternal(token, issuer, this.keysOf(issuer));
    const issuedAt = (claims.iat ?? claims.nbf ?? 0) * 1000;

    return this.match(state, issuer, claims, { address, issuedAt, notAfter: (claims.exp ?? 0) * 1000 });
  }

  /**
   * The principal an X.509-SVID stands for. `chain` is the client's certificates, leaf first,
   * as TLS received them (TLS has verified them against the union of all trust bundles).
   */
  async certificate(chain: X509Certificate[], address: string): Promise<Authenticated> {
    const state = await this.current();
    const leaf = chain[0];
    const id = leaf ? svidIdentity(leaf) : 'no client certificate';
    if (typeof id === 'string') throw new FederationRefusal('bad-certificate', id);
    const issuer = [...state.issuers.values()].find((i) => i.kind === 'spiffe' && i.issuer === id.trustDomain);
    if (!issuer) throw new FederationRefusal('unknown-issuer', `trust domain ${id.trustDomain} is not trusted`);
    if (!chainsTo(chain, await this.keysOf(issuer).authorities())) {
      throw new FederationRefusal('bad-certificate', `the certificate does not chain to the bundle of ${id.trustDomain}`, issuer.alias);
    }

    const validity = { issuedAt: new Date(leaf!.validFrom).getTime(), notAfter: new Date(leaf!.validTo).getTime() };

    return this.match(state, issuer, { sub: id.id }, { address, ...validity });
  }

  /** Aliases in the configuration that are also users' names: those users can no longer sign in with a password. */
  async aliasesNamingUsers(): Promise<string[]> {
    const taken = await Promise.all(this.configured.map(async (i) => ((await this.store.principals.userByName(i.alias)) ? i.alias : undefined)));

    return taken.filter((alias): alias is string => alias !== undefined);
  }

  /** Every CA certificate of every SPIFFE trust domain: what TLS asks client certificates to chain to. */
  async authorities(): Promise<X509Certificate[]> {
    const state = await this.current();
    const spiffe = [...state.issuers.values()].filter((i) => i.kind === 'spiffe');
    const lists = await Promise.all(spiffe.map((i) => this.keysOf(i).authorities().catch(() => [])));

    return lists.flat();
  }

  private issuerFor(state: Loaded, token: string): IssuerRecord | undefined {
    const { iss, sub } = peek(token);
    const all = [...state.issuers.values()];
    const oidc = all.find((i) => i.kind === 'oidc' && i.issuer === iss);
    if (oidc) return oidc;
    const domain = parseSpiffeId(sub ?? '')?.trustDomain;

    return all.find((i) => i.kind === 'spiffe' && i.issuer === domain);
  }

  /**
   * The first enabled rule of the issuer whose conditions hold. A credential issued before its
   * rule's tokens were revoked (`token revoke --rule`, or `--all`) is refused, so a leaked ID
   * token cannot mint new registry tokens; one without `iat` or `nbf` counts as issued at 0.
   */
  private async match(
    state: Loaded,
    issuer: IssuerRecord,
    claims: Record<string, unknown>,
    presented: { address: string; issuedAt: number; notAfter: number },
  ): Promise<Authenticated> {
    const subject = String(claims.sub);
    const candidates = state.rules.filter((r) => r.issuerAlias === issuer.alias && !r.disabled);
    const rule = candidates.find((r) => conditionsHold(r.conditions, claims));
    if (!rule) {
      const misses = candidates.map((r) => `${r.name}: ${firstMiss(r.conditions, claims)}`).join('; ') || 'the issuer has no enabled rule';
      throw new FederationRefusal('no-rule', `no federation rule of ${issuer.alias} accepts this token's claims`, issuer.alias, misses);
    }
    const principal = rulePrincipal(rule.id);
    const { revoked } = await this.directory.holder({ sub: principal, jti: '', issuedAtMs: presented.issuedAt });
    if (revoked) {
      throw new FederationRefusal('revoked', `the credential was issued before the tokens of ${RULE_PREFIX}${rule.name} were revoked`, issuer.alias);
    }
    const { address, notAfter } = presented;
    await this.store.federation.markRuleUsed(rule.id, Date.now(), subject, address);

    return {
      principal,
      name: `${RULE_PREFIX}${rule.name}`,
      userId: '',
      federated: { issuer: issuer.kind === 'oidc' ? issuer.issuer : `spiffe://${issuer.issuer}`, subject, rule: rule.name },
      notAfter,
    };
  }

  private keysOf(issuer: IssuerRecord): IssuerKeys {
    const definition = JSON.stringify([issuer.kind, issuer.issuer, issuer.jwksUri, issuer.jwksFile]);
    let entry = this.keys.get(issuer.alias);
    if (entry?.definition !== definition) {
      entry = { definition, keys: issuerKeys(issuer, this.options.cooldownMs) };
      this.keys.set(issuer.alias, entry);
    }

    return entry.keys;
  }

  private async current(): Promise<Loaded> {
    const generation = this.store.changes.generation();
    if (this.loaded?.generation === generation) return this.loaded;
    const [stored, rules] = await Promise.all([this.store.federation.issuers(), this.store.federation.rules()]);
    const issuers = new Map(stored.map((i) => [i.alias, i]));
    for (const c of this.configured) {
      issuers.set(c.alias, { ...c, jwksUri: c.jwksUri ?? null, jwksFile: c.jwksFile ?? null, createdAt: 0 });
    }
    this.loaded = { generation, issuers, rules };

    return this.loaded;
  }
}

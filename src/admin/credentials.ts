import { isRole } from '../access/roles.js';
import type { Config } from '../config/schema.js';
import { userPrincipal } from '../identity/directory.js';
import { RULE_PREFIX } from '../identity/federation/service.js';
import { generateSigningKey } from '../identity/keys.js';
import { generateRobotSecret, hashRobotSecret, ROBOT_PREFIX, robotPrincipal } from '../identity/robots.js';
import { TOKEN_LEEWAY_SECONDS } from '../identity/tokens.js';
import { rulePrincipal } from '../storage/metadata/federation.js';
import type { MetadataStore, NewRevocation } from '../storage/metadata/index.js';
import { conflict, DAY_MS, invalid, missing, NAME } from './errors.js';

/**
 * How long a cut of a federation rule's tokens (or of all tokens) is kept: external credentials
 * issued before it are refused for this long, which covers ID tokens of up to a day.
 */
export const EXTERNAL_CUT_MS = 24 * 60 * 60 * 1000;

/** The longest time an old robot secret may keep working after a rotation. */
const MAX_OVERLAP_DAYS = 30;

/** What to revoke: exactly one of these. */
export interface RevokeRequest {
  jti?: string;
  user?: string;
  robot?: string;
  rule?: string;
  /** Every token issued before `before` (default now), for everyone. */
  all?: boolean;
  before?: number;
  reason?: string;
  /** Who asked, for the record (`cli:<os user>` or `api:<principal name>`). */
  actor: string;
}

/** Robot accounts, revocations and token-signing keys. */
export class CredentialAdmin {
  constructor(
    private readonly store: MetadataStore,
    private readonly config: Config,
  ) {}

  /** Creates a robot with one role on its namespace; returns it and its secret (shown once). */
  async addRobot(input: { name: string; namespace: string; role: string; lifetimeMs: number }) {
    if (!NAME.test(input.name)) throw invalid('robot names are 1-64 characters: a-z, 0-9, ".", "_", "-"');
    if (!isRole(input.role) || input.role === 'admin') throw invalid('role must be reader, writer or maintainer');
    const max = this.config.robots.maxLifetimeDays;
    if (input.lifetimeMs <= 0 || input.lifetimeMs > max * DAY_MS) throw invalid(`the lifetime may be at most ${max}d (robots.maxLifetimeDays)`);
    if (!(await this.store.principals.listNamespaces()).some((n) => n.name === input.namespace)) throw missing(`no namespace "${input.namespace}"`);
    if (await this.store.robots.byName(input.name)) throw conflict(`robot "${input.name}" already exists`);
    const secret = generateRobotSecret();
    const robot = await this.store.robots.create({
      name: input.name,
      namespace: input.namespace,
      role: input.role,
      secretHash: hashRobotSecret(secret),
      expiresAt: Date.now() + input.lifetimeMs,
    });

    return { robot: publicRobot(robot), secret };
  }

  /** Robots with their role on the namespace that owns them. */
  async robots() {
    const [robots, bindings] = await Promise.all([this.store.robots.list(), this.store.principals.listBindings()]);
    const roles = new Map(bindings.map((b) => [`${b.principal} ${b.namespace}`, b.role]));

    return robots.map((r) => ({ ...publicRobot(r), role: roles.get(`${robotPrincipal(r.id)} ${r.namespace}`) ?? null }));
  }

  /** Issues a new secret; the old one stays valid for `overlapMs`. */
  async rotateRobot(name: string, overlapMs: number): Promise<{ secret: string; previousUntil: number }> {
    if (overlapMs > MAX_OVERLAP_DAYS * DAY_MS) throw invalid(`the overlap may be at most ${MAX_OVERLAP_DAYS}d`);
    const secret = generateRobotSecret();
    const previousUntil = Date.now() + overlapMs;
    if (!(await this.store.robots.rotate(name, hashRobotSecret(secret), previousUntil))) throw missing(`no robot "${name}"`);

    return { secret, previousUntil };
  }

  async setRobotDisabled(name: string, disabled: boolean): Promise<void> {
    if (!(await this.store.robots.setDisabled(name, disabled))) throw missing(`no robot "${name}"`);
  }

  async removeRobot(name: string): Promise<void> {
    if (!(await this.store.robots.remove(name))) throw missing(`no robot "${name}"`);
  }

  /**
   * Records a revocation, effective on the next request on every node. A subject's revocation
   * cuts every token issued to it so far; the record lives as long as such a token could.
   */
  async revoke(request: RevokeRequest): Promise<{ description: string; before: number | null }> {
    const chosen = [request.jti, request.user, request.robot, request.rule, request.all || undefined].filter((v) => v !== undefined);
    if (chosen.length !== 1) throw invalid('give exactly one of jti, user, robot, rule or all');
    const now = Date.now();
    const base = {
      reason: request.reason?.slice(0, 500) ?? null,
      actor: request.actor,
      expiresAt: now + (this.config.auth.tokenTtl + TOKEN_LEEWAY_SECONDS) * 1000,
    };
    const subject = (principal: string): NewRevocation => ({ ...base, kind: 'subject', principal, jti: null, before: now });
    // A rule's cut also refuses external credentials issued before it, which live longer than ours.
    const external = { expiresAt: now + EXTERNAL_CUT_MS };
    let revocation: NewRevocation;
    let description: string;
    if (request.jti !== undefined) {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(request.jti)) throw invalid('the jti must be a token id');
      revocation = { ...base, kind: 'token', principal: null, jti: request.jti, before: null };
      description = `revoked token ${request.jti}`;
    } else if (request.user !== undefined) {
      const user = await this.store.principals.userByName(request.user);
      if (!user) throw missing(`no user "${request.user}"`);
      revocation = subject(userPrincipal(user.id));
      description = `revoked every token and refresh token of ${request.user}`;
    } else if (request.robot !== undefined) {
      const robot = await this.store.robots.byName(request.robot);
      if (!robot) throw missing(`no robot "${request.robot}"`);
      revocation = subject(robotPrincipal(robot.id));
      description = `revoked every token of ${ROBOT_PREFIX}${request.robot}`;
    } else if (request.rule !== undefined) {
      const rule = await this.store.federation.ruleByName(request.rule);
      if (!rule) throw missing(`no rule "${request.rule}"`);
      revocation = { ...subject(rulePrincipal(rule.id)), ...external };
      description = `revoked every token of ${RULE_PREFIX}${request.rule}`;
    } else {
      const before = Math.min(request.before ?? now, now);
      if (Number.isNaN(before)) throw invalid('before must be a time');
      revocation = { ...base, ...external, kind: 'all', principal: null, jti: null, before };
      description = `revoked every token issued before ${new Date(before).toISOString()}`;
    }
    await this.store.revocations.add(revocation);

    return { description, before: revocation.before };
  }

  /** Signs new tokens with a new key; earlier keys verify until their tokens have expired. */
  async rotateKeys(): Promise<{ kid: string; earlierVerifyUntil: number; pruned: string[] }> {
    const overlapMs = (this.config.auth.tokenTtl + TOKEN_LEEWAY_SECONDS) * 1000;
    const now = Date.now();
    const key = await generateSigningKey(now);
    await this.store.keys.rotate(key, now);
    const pruned = await this.store.keys.prune(now - overlapMs);

    return { kid: key.kid, earlierVerifyUntil: now + overlapMs, pruned };
  }

  async keys() {
    return (await this.store.principals.signingKeys()).map((k) => ({ kid: k.kid, createdAt: k.createdAt, retiredAt: k.retiredAt }));
  }
}

/** A robot as listings show it: never its secret hashes. */
function publicRobot(r: Awaited<ReturnType<MetadataStore['robots']['list']>>[number]) {
  return {
    name: r.name,
    signInName: `${ROBOT_PREFIX}${r.name}`,
    namespace: r.namespace,
    expiresAt: r.expiresAt,
    disabled: r.disabled,
    lastUsedAt: r.lastUsedAt,
    lastUsedIp: r.lastUsedIp,
    allowedCidrs: r.allowedCidrs,
    createdAt: r.createdAt,
  };
}

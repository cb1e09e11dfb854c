import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { MetadataStore } from '../storage/metadata/index.js';
import type { Directory } from './directory.js';
import { userPrincipal } from './directory.js';
import { DECOY_HASH, verifyPassword } from './passwords.js';
import { ROBOT_PREFIX, robotPrincipal, robotSecretMatches } from './robots.js';

/** Who a credential proved to be. */
export interface Authenticated {
  principal: string;
  name: string;
  userId: string;
  /** For a federated workload: who issued its credential, its subject there, and the rule that matched. */
  federated?: { issuer: string; subject: string; rule: string };
  /** When the presented credential itself expires (ms); a registry token never outlives it. */
  notAfter?: number;
}

const REMEMBER_MS = 60_000;

/**
 * Checks user passwords and refresh tokens. A password that verified is remembered for a
 * minute under a keyed hash (the key never leaves this process), so that clients fetching one
 * token per repository do not pay for scrypt each time; any change to users or bindings
 * forgets them all.
 */
export class Authenticator {
  private readonly key = randomBytes(32);
  private remembered = new Map<string, { who: Authenticated; until: number }>();
  private rememberedAt = '';

  constructor(
    private readonly store: MetadataStore,
    private readonly directory: Directory,
  ) {}

  /**
   * The user (or, for `robot+<name>`, the robot) when the name and password or secret match an
   * enabled, unexpired account; undefined otherwise. `address` is recorded as a robot's last use.
   */
  async password(name: string, password: string, address = ''): Promise<Authenticated | undefined> {
    if (name.startsWith(ROBOT_PREFIX)) return this.robot(name.slice(ROBOT_PREFIX.length), password, address);
    const generation = await this.directory.generation();
    if (generation !== this.rememberedAt) {
      this.remembered = new Map();
      this.rememberedAt = generation;
    }
    const cacheKey = createHmac('sha256', this.key).update(name).update('\0').update(password).digest('base64');
    const hit = this.remembered.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.who;

    const user = await this.store.principals.userByName(name);
    // Unknown users cost the same scrypt as known ones, so timing does not reveal names.
    const ok = await verifyPassword(password, user?.passwordHash ?? DECOY_HASH);
    if (!user || !ok || user.disabled) return undefined;
    const who = { principal: userPrincipal(user.id), name: user.name, userId: user.id };
    this.remembered.set(cacheKey, { who, until: Date.now() + REMEMBER_MS });

    return who;
  }

  private async robot(name: string, secret: string, address: string): Promise<Authenticated | undefined> {
    const robot = await this.store.robots.byName(name);
    const now = Date.now();
    if (!robot || robot.disabled || robot.expiresAt <= now || !robotSecretMatches(robot, secret, now)) return undefined;
    await this.store.robots.markUsed(robot.id, now, address);

    return { principal: robotPrincipal(robot.id), name: `${ROBOT_PREFIX}${robot.name}`, userId: '' };
  }

  /** Issues an opaque refresh token for the user; only its hash is stored. */
  async issueRefreshToken(who: Authenticated, ttlSeconds: number): Promise<string> {
    const token = `pcr_${randomBytes(32).toString('base64url')}`;
    await this.store.principals.saveRefreshToken(hashToken(token), who.userId, Date.now() + ttlSeconds * 1000);

    return token;
  }

  /** The user a refresh token belongs to, when it is valid and the user still enabled. */
  async refreshToken(token: string): Promise<Authenticated | undefined> {
    if (!token.startsWith('pcr_') || token.length > 200) return undefined;
    const userId = await this.store.principals.refreshTokenUser(hashToken(token), Date.now());
    if (!userId) return undefined;
    const user = await this.store.principals.userById(userId);
    if (!user || user.disabled) return undefined;

    return { principal: userPrincipal(user.id), name: user.name, userId: user.id };
  }
}

/** Refresh tokens carry 256 random bits, so a fast hash is enough to store them. */
function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

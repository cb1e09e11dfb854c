import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RobotRecord } from '../storage/metadata/robots.js';

/** Robots sign in with the user name `robot+<name>`, so they can never collide with users. */
export const ROBOT_PREFIX = 'robot+';

export function robotPrincipal(robotId: string): string {
  return `robot:${robotId}`;
}

/** A new robot secret: 256 random bits, shown once and stored only as a hash. */
export function generateRobotSecret(): string {
  return `pcs_${randomBytes(32).toString('base64url')}`;
}

/** Robot secrets are high-entropy, so a fast hash is enough to store them. */
export function hashRobotSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Whether `secret` is the robot's current secret, or its previous one while the rotation's
 * overlap lasts. Compared in constant time; says nothing about expiry or disabling.
 */
export function robotSecretMatches(robot: RobotRecord, secret: string, now: number): boolean {
  const given = Buffer.from(hashRobotSecret(secret), 'hex');
  const equal = (hash: string) => timingSafeEqual(given, Buffer.from(hash, 'hex'));
  const current = equal(robot.secretHash);
  const previous = robot.previousHash !== null && (robot.previousUntil ?? 0) > now && equal(robot.previousHash);

  return current || previous;
}

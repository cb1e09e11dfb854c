/** Actions a token can carry on a repository. `*` stands for every action. */
export type Action = 'pull' | 'push' | 'delete' | '*';

/** Roles in increasing power; each includes the actions of the ones before it. */
export const ROLES = ['reader', 'writer', 'maintainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const ROLE_ACTIONS: Record<Role, readonly Action[]> = {
  reader: ['pull'],
  writer: ['pull', 'push'],
  maintainer: ['pull', 'push', 'delete'],
  admin: ['pull', 'push', 'delete', '*'],
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The repository actions a role allows. */
export function actionsOf(role: Role): readonly Action[] {
  return ROLE_ACTIONS[role];
}

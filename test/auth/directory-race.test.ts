import { describe, expect, it } from 'vitest';
import { Directory, userPrincipal } from '../../src/identity/directory.js';
import type { MetadataStore } from '../../src/storage/metadata/index.js';
import type { BindingRecord, UserRecord } from '../../src/storage/metadata/principals.js';

/**
 * A store whose reads can be held open, to replay the interleaving of a request that reloads
 * the directory while an administrator disables a user on another connection.
 */
function slowStore() {
  let generation = 1;
  let disabled = false;
  let gate: Promise<void> = Promise.resolve();
  const user = (): UserRecord => ({
    id: 'u1',
    name: 'carol',
    passwordHash: 'x',
    mixedEnvironments: false,
    disabled,
    createdAt: 0,
  });
  const store = {
    changes: { generation: () => String(generation), touch: () => {}, close: async () => {} },
    principals: {
      // The row is read when the query runs; the answer arrives when the gate opens.
      listUsers: async (): Promise<UserRecord[]> => {
        const rows = [user()];
        await gate;
        return rows;
      },
      listBindings: async (): Promise<BindingRecord[]> => [],
      listNamespaces: async () => [],
    },
    revocations: { active: async () => [] },
    robots: { list: async () => [] },
    federation: { rules: async () => [] },
    addressRules: { all: async () => ({ namespaces: [], users: new Map() }) },
  };

  return {
    store: store as unknown as MetadataStore,
    hold(): () => void {
      let open!: () => void;
      gate = new Promise((resolve) => {
        open = resolve;
      });
      return open;
    },
    /** Another connection commits something unrelated to this user. */
    otherChangeCommitted(): void {
      generation += 1;
    },
    /** Another connection disables the user and commits. */
    disableCommitted(): void {
      disabled = true;
      generation += 1;
    },
  };
}

describe('Directory', () => {
  it('does not answer a request that began after a committed change with a snapshot read before it', async () => {
    const fake = slowStore();
    const directory = new Directory(fake.store);
    const principal = userPrincipal('u1');
    expect((await directory.subject(principal)).enabled).toBe(true);

    // Request A sees an unrelated commit and starts a reload, whose read is still in flight...
    fake.otherChangeCommitted();
    const open = fake.hold();
    const first = directory.subject(principal);
    // ...then the administrator disables the user and commits; request B arrives afterwards.
    fake.disableCommitted();
    const second = directory.subject(principal);
    open();

    expect((await second).enabled).toBe(false);
    await first;
  });

  it('reloads once for requests that arrive together at one generation', async () => {
    const fake = slowStore();
    const directory = new Directory(fake.store);
    const principal = userPrincipal('u1');
    await directory.subject(principal);
    let reads = 0;
    const list = fake.store.principals.listUsers.bind(fake.store.principals);
    fake.store.principals.listUsers = () => {
      reads += 1;
      return list();
    };

    fake.disableCommitted();
    const answers = await Promise.all([1, 2, 3].map(() => directory.subject(principal)));

    expect(answers.map((a) => a.enabled)).toEqual([false, false, false]);
    expect(reads).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { covers, decide, type Subject } from './decide.js';

const subject = (bindings: Array<[string, string]>, enabled = true): Subject => ({
  principal: 'user:u1',
  enabled,
  bindings: bindings.map(([namespace, role]) => ({ principal: 'user:u1', namespace, role })),
});
const repo = (name: string, ...actions: string[]) => ({ type: 'repository', name, actions });

describe('decide', () => {
  it.each([
    ['reader', ['pull']],
    ['writer', ['pull', 'push']],
    ['maintainer', ['pull', 'push', 'delete']],
    ['admin', ['pull', 'push', 'delete', '*']],
  ])('grants a %s exactly its actions', (role, expected) => {
    const d = decide(subject([['team', role]]), repo('team/app', 'pull', 'push', 'delete', '*'));
    expect(d.granted.sort()).toEqual([...expected].sort());
  });

  it('grants only the intersection of what was asked and what is bound', () => {
    expect(decide(subject([['team', 'admin']]), repo('team/app', 'pull')).granted).toEqual(['pull']);
  });

  it('matches namespaces on whole path components', () => {
    const s = subject([['team', 'writer']]);
    expect(decide(s, repo('team', 'pull')).granted).toEqual(['pull']);
    expect(decide(s, repo('team/a/b', 'pull')).granted).toEqual(['pull']);
    expect(decide(s, repo('teamster/app', 'pull')).granted).toEqual([]);
  });

  it('treats * as every repository', () => {
    expect(decide(subject([['*', 'reader']]), repo('any/thing', 'pull', 'push')).granted).toEqual(['pull']);
  });

  it('denies everything to a disabled subject', () => {
    expect(decide(subject([['*', 'admin']], false), repo('a', 'pull')).granted).toEqual([]);
  });

  it('denies with no bindings, unknown roles, unknown actions and unknown resource types', () => {
    expect(decide(subject([]), repo('a', 'pull')).granted).toEqual([]);
    expect(decide(subject([['a', 'owner']]), repo('a', 'pull')).granted).toEqual([]);
    expect(decide(subject([['a', 'reader']]), repo('a', 'read')).granted).toEqual([]);
    expect(decide(subject([['*', 'admin']]), { type: 'plugin', name: 'a', actions: ['pull'] }).granted).toEqual([]);
  });

  it('grants the catalog to any enabled subject (the listing is filtered later)', () => {
    expect(decide(subject([]), { type: 'registry', name: 'catalog', actions: ['*', 'push'] }).granted).toEqual(['*']);
  });

  it('grants the admin API only to an admin on the root namespace', () => {
    const scope = { type: 'registry', name: 'admin', actions: ['*'] };
    expect(decide(subject([['*', 'admin']]), scope).granted).toEqual(['*']);
    expect(decide(subject([['team', 'admin']]), scope).granted).toEqual([]);
    expect(decide(subject([['*', 'maintainer']]), scope).granted).toEqual([]);
  });

  it('explains itself', () => {
    expect(decide(subject([]), repo('a', 'pull')).reasons).toEqual(['no binding covers this repository']);
    expect(decide(subject([['a', 'reader']]), repo('a/b', 'pull')).reasons).toEqual(['reader on namespace a']);
  });
});

describe('covers', () => {
  it('needs every required action unless * was granted', () => {
    expect(covers(['pull'], ['pull', 'push'])).toBe(false);
    expect(covers(['pull', 'push'], ['pull', 'push'])).toBe(true);
    expect(covers(['*'], ['delete'])).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { formatScopes, parseScopes } from './scope.js';

describe('parseScopes', () => {
  it('reads type, name and actions', () => {
    expect(parseScopes(['repository:team/app:pull,push'])).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
    ]);
  });

  it('keeps a host:port inside the name', () => {
    expect(parseScopes(['repository:localhost:5000/team/app:pull'])[0]).toEqual({
      type: 'repository',
      name: 'localhost:5000/team/app',
      actions: ['pull'],
    });
  });

  it('splits space-separated scopes and merges repeats', () => {
    expect(parseScopes(['repository:a:pull repository:b:push', 'repository:a:push'])).toEqual([
      { type: 'repository', name: 'a', actions: ['pull', 'push'] },
      { type: 'repository', name: 'b', actions: ['push'] },
    ]);
  });

  it('ignores the deprecated resource class and drops malformed entries', () => {
    expect(parseScopes(['repository(plugin):a:pull'])).toEqual([{ type: 'repository', name: 'a', actions: ['pull'] }]);
    expect(parseScopes(['', 'nonsense', 'repository::pull', ':a:pull', 'Repo:a:pull'])).toEqual([]);
  });

  it('drops odd action strings', () => {
    expect(parseScopes(['repository:a:pull,PUSH,de;lete,*'])[0]!.actions).toEqual(['pull', '*']);
  });

  it('formats back into the challenge form', () => {
    expect(formatScopes(parseScopes(['repository:a:pull,push registry:catalog:*']))).toBe(
      'repository:a:pull,push registry:catalog:*',
    );
  });
});

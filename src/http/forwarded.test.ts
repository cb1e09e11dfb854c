import { describe, expect, it } from 'vitest';
import { forwardedFor } from './forwarded.js';

describe('RFC 7239 Forwarded', () => {
  it('lists the for= nodes in order, without ports, quotes or brackets', () => {
    expect(forwardedFor('for=192.0.2.60;proto=http;by=203.0.113.43')).toEqual(['192.0.2.60']);
    expect(forwardedFor('for="[2001:db8:cafe::17]:4711", For=198.51.100.17:8080')).toEqual(['2001:db8:cafe::17', '198.51.100.17']);
    expect(forwardedFor('for="192.0.2.43:47011", for=10.0.0.1')).toEqual(['192.0.2.43', '10.0.0.1']);
  });

  it('keeps hidden and unknown nodes as written, so no address rule accepts them', () => {
    expect(forwardedFor('for=unknown, for=_hidden')).toEqual(['unknown', '_hidden']);
    expect(forwardedFor('proto=https')).toEqual([]);
  });
});

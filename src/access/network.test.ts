import { describe, expect, it } from 'vitest';
import { addressRefusal, cidrContains, isCidr } from './network.js';

describe('cidrContains', () => {
  it.each([
    ['10.0.0.0/8', '10.1.2.3', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.168.1.7', '192.168.1.7', true],
    ['192.168.1.0/24', '192.168.2.1', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['10.0.0.0/8', '::ffff:10.9.9.9', true],
    ['2001:db8::/32', '2001:db8:1::5', true],
    ['2001:db8::/32', '2001:db9::5', false],
    ['::1/128', '::1', true],
    ['fd00::/8', '10.0.0.1', false],
    ['10.0.0.0/8', 'fd00::1', false],
  ])('%s contains %s: %s', (cidr, address, expected) => {
    expect(cidrContains(cidr, address)).toBe(expected);
  });

  it('never matches malformed input', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', '300.1.1.1', 'x', '', '1::2::3', '10.0.0.0/-1']) {
      expect(isCidr(bad)).toBe(false);
      expect(cidrContains(bad, '10.0.0.1')).toBe(false);
    }
    expect(cidrContains('10.0.0.0/8', 'not-an-ip')).toBe(false);
  });
});

describe('addressRefusal', () => {
  const inTeam = (ns: string) => ns === 'team' || ns === '*';

  it('allows when no rule applies', () => {
    expect(addressRefusal('1.2.3.4', null, [{ namespace: 'other', cidrs: ['10.0.0.0/8'] }], inTeam)).toBeUndefined();
  });

  it("needs the caller's list and every applying namespace list to contain the address", () => {
    expect(addressRefusal('10.1.1.1', ['10.0.0.0/8'], [{ namespace: 'team', cidrs: ['10.1.0.0/16'] }], inTeam)).toBeUndefined();
    expect(addressRefusal('10.2.1.1', ['10.0.0.0/8'], [{ namespace: 'team', cidrs: ['10.1.0.0/16'] }], inTeam)).toBe(
      'address 10.2.1.1 is outside the allowed networks of namespace team',
    );
    expect(addressRefusal('192.168.0.1', ['10.0.0.0/8'], [], inTeam)).toBe(
      "address 192.168.0.1 is outside the credential's allowed networks",
    );
  });
});

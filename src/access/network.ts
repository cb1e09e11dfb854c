/**
 * Address rules: CIDR allowlists checked against the client address. Pure functions over
 * strings; IPv4, IPv6 and IPv4-mapped IPv6 (`::ffff:10.0.0.1`) addresses are understood.
 */

interface Parsed {
  version: 4 | 6;
  value: bigint;
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(part));
  }

  return value;
}

function parseIPv6(text: string): bigint | undefined {
  let head = text;
  let tail: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    tail = parseIPv4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  let value = 0n;
  for (const group of [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }

  return tail === undefined ? value : (value & ~0xffffffffn) | tail;
}

function parseAddress(text: string): Parsed | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = parseIPv6(text.replace(/^\[|\]$/g, '').split('%')[0]!);
  if (v6 === undefined) return undefined;
  // An IPv4-mapped IPv6 address is the IPv4 address it maps.
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 & 0xffffffffn };

  return { version: 6, value: v6 };
}

/** True when `cidr` is `address/prefix` (or a bare address) of a valid length. */
export function isCidr(cidr: string): boolean {
  return parseCidr(cidr) !== undefined;
}

function parseCidr(cidr: string): { net: Parsed; prefix: number } | undefined {
  const [address, prefixText] = cidr.split('/');
  const net = parseAddress(address ?? '');
  if (!net) return undefined;
  const bits = net.version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;

  return { net, prefix };
}

/** True when `address` lies inside `cidr`; malformed input never matches. */
export function cidrContains(cidr: string, address: string): boolean {
  const range = parseCidr(cidr);
  const ip = parseAddress(address);
  if (!range || !ip || range.net.version !== ip.version) return false;
  const bits = BigInt(ip.version === 4 ? 32 : 128);
  const shift = bits - BigInt(range.prefix);

  return ip.value >> shift === range.net.value >> shift;
}

/** A namespace's address rule as the decision sees it. */
export interface NamespaceRule {
  namespace: string;
  cidrs: readonly string[];
}

/**
 * Whether a request from `address` may touch `repository`: every allowlist that applies (the
 * caller's own, and that of each namespace holding the repository) must contain the address.
 * Returns the reason for a refusal, or undefined when allowed.
 */
export function addressRefusal(
  address: string,
  callerCidrs: readonly string[] | null,
  rules: readonly NamespaceRule[],
  inNamespace: (namespace: string) => boolean,
): string | undefined {
  if (callerCidrs && !callerCidrs.some((c) => cidrContains(c, address))) {
    return `address ${address} is outside the credential's allowed networks`;
  }
  for (const rule of rules) {
    if (inNamespace(rule.namespace) && !rule.cidrs.some((c) => cidrContains(c, address))) {
      return `address ${address} is outside the allowed networks of namespace ${rule.namespace}`;
    }
  }

  return undefined;
}

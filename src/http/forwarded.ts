import type { IncomingMessage } from 'node:http';

/**
 * The client addresses of an RFC 7239 `Forwarded` header, nearest proxy last, as
 * `X-Forwarded-For` lists them. Ports and brackets go; a hidden or unknown node (`_x`,
 * `unknown`) stays as written, which no address rule accepts, so it fails closed.
 */
export function forwardedFor(header: string): string[] {
  const found: string[] = [];
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      let node = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (node.startsWith('[')) node = node.slice(1, node.indexOf(']') < 0 ? undefined : node.indexOf(']'));
      else if (/^[\d.]+:\d+$/.test(node)) node = node.slice(0, node.indexOf(':'));
      found.push(node);
    }
  }

  return found;
}

/**
 * With `trustedProxyHeader: forwarded`, the trusted proxies' `Forwarded` header replaces any
 * `X-Forwarded-For` before the client address is worked out (by the same right-to-left walk
 * over trusted proxies). Reading only the header the proxies actually set matters: a proxy
 * that sets one passes the other through from the client unchanged, and believing it would let
 * the client choose its address.
 */
export function useForwardedHeader(raw: IncomingMessage): void {
  const header = raw.headers.forwarded;
  delete raw.headers['x-forwarded-for'];
  if (typeof header === 'string' && header !== '') raw.headers['x-forwarded-for'] = forwardedFor(header).join(', ');
}

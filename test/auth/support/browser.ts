/**
 * A minimal cookie-keeping browser for sign-in flows: it follows redirects one at a time,
 * keeps cookies per host name and path as browsers do, and fills in and submits the forms
 * the provider's sign-in and consent pages show.
 */
export class Browser {
  private readonly cookies = new Map<string, Map<string, { value: string; path: string }>>();

  constructor(
    private readonly login: string,
    private readonly password = 'any password',
  ) {}

  /**
   * Goes to `url` and on through redirects and forms until a response that is neither, or
   * until the next address satisfies `stopAt` (which is returned unvisited).
   */
  async visit(url: string, stopAt: (next: URL) => boolean = () => false): Promise<{ url: string; response?: Response }> {
    let next = new URL(url);
    let form: URLSearchParams | undefined;
    for (let hop = 0; hop < 20; hop++) {
      if (stopAt(next)) return { url: next.toString() };
      const response = await this.request(next, form);
      form = undefined;
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        next = new URL(location, next);
        continue;
      }
      const html = response.headers.get('content-type')?.includes('text/html') ? await response.clone().text() : '';
      const found = parseForm(html);
      if (!found) return { url: next.toString(), response };
      next = new URL(found.action, next);
      form = found.fields;
      if (form.has('login')) form.set('login', this.login);
      if (form.has('password')) form.set('password', this.password);
    }
    throw new Error('too many redirects');
  }

  /** One request with this browser's cookies; no redirect is followed. */
  async request(url: URL, form?: URLSearchParams): Promise<Response> {
    const headers: Record<string, string> = {};
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form?.toString(), redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.store(url, line);

    return response;
  }

  /** Cookie names this browser holds for a host. */
  cookieNames(host: string): string[] {
    return [...(this.cookies.get(host)?.keys() ?? [])];
  }

  cookieValue(host: string, name: string): string | undefined {
    return this.cookies.get(host)?.get(name)?.value;
  }

  forget(host: string, name: string): void {
    this.cookies.get(host)?.delete(name);
  }

  private cookieHeader(url: URL): string {
    const jar = this.cookies.get(url.hostname) ?? new Map();

    return [...jar.entries()]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const attribute = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
    const path = attribute('path') ?? '/';
    const expires = attribute('expires');
    const gone = attribute('max-age') === '0' || (expires !== undefined && Date.parse(expires) < Date.now());
    const jar = this.cookies.get(url.hostname) ?? new Map<string, { value: string; path: string }>();
    this.cookies.set(url.hostname, jar);
    if (gone) jar.delete(name);
    else jar.set(name, { value, path });
  }
}

/** The first form of a page: where it posts, and its fields with their values. */
function parseForm(html: string): { action: string; fields: URLSearchParams } | undefined {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields = new URLSearchParams();
  for (const [input] of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input)?.[1];
    if (name) fields.set(decode(name), decode(/\bvalue="([^"]*)"/i.exec(input)?.[1] ?? ''));
  }

  return { action: decode(form[1]!), fields };
}

function decode(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

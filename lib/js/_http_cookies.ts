/**
 * A small RFC 6265 cookie jar for k6/http (`http.cookieJar()`, `new http.CookieJar()`):
 * domain and path matching, expiry, `Secure`, host-only cookies. No public-suffix list.
 * @module
 */

/** One stored cookie. `expires` is epoch ms (Infinity for a session cookie). */
interface StoredCookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  expires: number;
  created: number;
}

/** A cookie as k6 puts it in `Response.cookies`. */
export interface ResponseCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  http_only: boolean;
  secure: boolean;
  max_age: number;
  expires: number;
}

/** Options of `CookieJar.set()`. */
export interface CookieOptions {
  domain?: string;
  path?: string;
  expires?: string;
  max_age?: number;
  secure?: boolean;
  http_only?: boolean;
}

let creationCounter = 0;

function defaultPath(pathname: string): string {
  if (!pathname.startsWith("/")) return "/";
  const i = pathname.lastIndexOf("/");
  return i <= 0 ? "/" : pathname.slice(0, i);
}

function domainMatch(host: string, domain: string): boolean {
  return host === domain || (host.endsWith("." + domain) && !/^[\d.]+$/.test(host));
}

function pathMatch(reqPath: string, cookiePath: string): boolean {
  if (reqPath === cookiePath) return true;
  if (!reqPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || reqPath[cookiePath.length] === "/";
}

/**
 * Parses one Set-Cookie header value. Returns undefined for a malformed one.
 *
 * @example
 * ```ts
 * parseSetCookie("a=1; Path=/; HttpOnly")?.http_only; // true
 * ```
 */
export function parseSetCookie(header: string): ResponseCookie | undefined {
  const parts = header.split(";");
  const first = parts[0];
  const eq = first.indexOf("=");
  if (eq <= 0) return undefined;
  const cookie: ResponseCookie = {
    name: first.slice(0, eq).trim(),
    value: first.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1"),
    domain: "",
    path: "",
    http_only: false,
    secure: false,
    max_age: 0,
    expires: 0,
  };
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i];
    const e = p.indexOf("=");
    const key = (e < 0 ? p : p.slice(0, e)).trim().toLowerCase();
    const val = e < 0 ? "" : p.slice(e + 1).trim();
    switch (key) {
      case "domain":
        cookie.domain = val.replace(/^\./, "").toLowerCase();
        break;
      case "path":
        cookie.path = val;
        break;
      case "httponly":
        cookie.http_only = true;
        break;
      case "secure":
        cookie.secure = true;
        break;
      case "max-age": {
        const n = Number(val);
        if (Number.isInteger(n)) cookie.max_age = n <= 0 ? -1 : n;
        break;
      }
      case "expires": {
        const t = Date.parse(val);
        if (!Number.isNaN(t)) cookie.expires = t;
        break;
      }
    }
  }
  return cookie;
}

/**
 * The cookie store behind `http.CookieJar`.
 *
 * @example
 * ```ts
 * const jar = new CookieStore();
 * jar.set("http://example.com/", "session", "abc");
 * jar.cookieHeader(new URL("http://example.com/a")); // "session=abc"
 * ```
 */
export class CookieStore {
  #cookies: StoredCookie[] = [];

  /** Stores the cookies of a response's Set-Cookie headers received from `url`. */
  storeFromResponse(url: URL, setCookies: readonly string[]): void {
    for (const h of setCookies) {
      const c = parseSetCookie(h);
      if (c) this.#store(url, c);
    }
  }

  #store(url: URL, c: ResponseCookie): void {
    const host = hostOf(url);
    let domain = host;
    let hostOnly = true;
    if (c.domain !== "") {
      if (!domainMatch(host, c.domain)) return; // a foreign domain: rejected
      domain = c.domain;
      hostOnly = false;
    }
    const path = c.path.startsWith("/") ? c.path : defaultPath(url.pathname);
    let expires = Infinity;
    if (c.max_age !== 0) expires = c.max_age < 0 ? 0 : Date.now() + c.max_age * 1000;
    else if (c.expires !== 0) expires = c.expires;
    const idx = this.#cookies.findIndex((o) =>
      o.name === c.name && o.domain === domain && o.path === path
    );
    const created = idx >= 0 ? this.#cookies[idx].created : ++creationCounter;
    if (idx >= 0) this.#cookies.splice(idx, 1);
    if (expires <= Date.now()) return; // an expiring Set-Cookie deletes
    this.#cookies.push({
      name: c.name,
      value: c.value,
      domain,
      hostOnly,
      path,
      secure: c.secure,
      httpOnly: c.http_only,
      expires,
      created,
    });
  }

  /** Cookies visible for `url`, ordered as they are sent (longer paths first). */
  #visible(url: URL): StoredCookie[] {
    const now = Date.now();
    const host = hostOf(url);
    const secure = url.protocol === "https:";
    const out: StoredCookie[] = [];
    this.#cookies = this.#cookies.filter((c) => c.expires > now);
    for (const c of this.#cookies) {
      if (c.hostOnly ? c.domain !== host : !domainMatch(host, c.domain)) continue;
      if (!pathMatch(url.pathname || "/", c.path)) continue;
      if (c.secure && !secure) continue;
      out.push(c);
    }
    out.sort((a, b) => b.path.length - a.path.length || a.created - b.created);
    return out;
  }

  /** The `Cookie` header value for `url` ("" when none), skipping `skip` names. */
  cookieHeader(url: URL, skip?: ReadonlySet<string>): string {
    if (this.#cookies.length === 0) return "";
    let s = "";
    for (const c of this.#visible(url)) {
      if (skip?.has(c.name)) continue;
      s += (s === "" ? "" : "; ") + c.name + "=" + c.value;
    }
    return s;
  }

  /** `jar.cookiesForURL(url)`: name → values. */
  cookiesForURL(url: URL): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const c of this.#visible(url)) (out[c.name] ??= []).push(c.value);
    return out;
  }

  /** `jar.set(url, name, value, options)`. */
  set(url: string | URL, name: string, value: string, opts: CookieOptions = {}): void {
    const u = typeof url === "string" ? new URL(url) : url;
    this.#store(u, {
      name,
      value,
      domain: (opts.domain ?? "").replace(/^\./, "").toLowerCase(),
      path: opts.path ?? "",
      http_only: opts.http_only === true,
      secure: opts.secure === true,
      max_age: opts.max_age === undefined ? 0 : (opts.max_age <= 0 ? -1 : opts.max_age),
      expires: opts.expires === undefined ? 0 : (Date.parse(opts.expires) || 0),
    });
  }

  /** Expires every cookie visible for `url`. */
  clear(url: URL): void {
    const gone = new Set(this.#visible(url));
    this.#cookies = this.#cookies.filter((c) => !gone.has(c));
  }

  /** Deletes the cookie `name` visible for `url`. */
  delete(url: URL, name: string): void {
    const gone = new Set(this.#visible(url).filter((c) => c.name === name));
    this.#cookies = this.#cookies.filter((c) => !gone.has(c));
  }

  /** Forgets everything (the per-iteration reset). */
  reset(): void {
    this.#cookies = [];
  }
}

function hostOf(url: URL): string {
  const h = url.hostname.toLowerCase();
  return h.startsWith("[") ? h.slice(1, -1) : h;
}

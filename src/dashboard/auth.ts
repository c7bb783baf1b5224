/**
 * Who may use the dashboard. On a loopback address anyone on this machine may read it (the Host
 * header must name the loopback address, so a web page elsewhere cannot reach it through DNS
 * rebinding); on any other address every request needs the token printed at the start. Requests
 * that change state (POST) always need the token in the X-Deepconf-Token header: a cookie or a
 * query parameter is not enough, so another site cannot forge them. Tokens are compared in
 * constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";

export const TOKEN_HEADER = "x-deepconf-token";
export const TOKEN_COOKIE = "deepconf_token";
export const TOKEN_QUERY = "token";

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Equal in constant time (both sides hashed first, so lengths leak nothing either). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

export interface AuthOptions {
  token: string;
  /** The address the server binds: loopback addresses need no token to read. */
  host: string;
  /** The port it listens on (for the Host header check); read when a request comes. */
  port: () => number;
}

function bearer(c: Context): string | undefined {
  const header = c.req.header("authorization");
  return header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
}

/** The Host header names this server on a loopback address. */
function loopbackHost(c: Context, port: number): boolean {
  const host = c.req.header("host") ?? "";
  return ["127.0.0.1", "localhost", "[::1]"].some((name) => host === `${name}:${port}`);
}

/**
 * The middleware: 403 for a foreign Host on loopback, 401 without a valid token elsewhere, 403
 * for a POST without the token header. A valid token in the query sets an HttpOnly, SameSite
 * cookie, so the page's own links and the bull-board UI work after the first visit.
 */
export function authMiddleware(options: AuthOptions): MiddlewareHandler {
  const loopback = isLoopback(options.host);
  return async (c, next) => {
    if (loopback && !loopbackHost(c, options.port())) {
      return c.text(
        "forbidden: unexpected Host header (the dashboard answers on loopback only)",
        403,
      );
    }
    const header = c.req.header(TOKEN_HEADER) ?? bearer(c);
    const query = c.req.query(TOKEN_QUERY);
    const cookie = getCookie(c, TOKEN_COOKIE);
    const valid = (value: string | undefined) =>
      value !== undefined && tokensEqual(value, options.token);
    if (!loopback && !(valid(header) || valid(query) || valid(cookie))) {
      return c.text("unauthorized: give the token printed when the dashboard started", 401);
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && !valid(header)) {
      return c.text(
        `forbidden: a request that changes state needs the ${TOKEN_HEADER} header`,
        403,
      );
    }
    if (!loopback && valid(query) && !valid(cookie)) {
      setCookie(c, TOKEN_COOKIE, options.token, { httpOnly: true, sameSite: "Strict", path: "/" });
    }
    await next();
  };
}

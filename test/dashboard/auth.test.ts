/** The dashboard's token compare, loopback addresses and the scrubbing of secret values. */
import { describe, expect, test } from "vitest";
import { isLoopback, newToken, tokensEqual } from "../../src/dashboard/auth.js";
import { scrubber } from "../../src/dashboard/routes.js";

describe("dashboard auth", () => {
  test("tokens: random, compared whole (any length)", () => {
    const token = newToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newToken()).not.toBe(token);
    expect(tokensEqual(token, token)).toBe(true);
    for (const other of ["", token.slice(1), `${token}x`, token.toUpperCase(), newToken()])
      expect(tokensEqual(other, token)).toBe(false);
  });

  test("loopback addresses need no token to read; others do", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1"])
      expect(isLoopback(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com"])
      expect(isLoopback(host)).toBe(false);
  });

  test("secret values are cut from page text: plain, URL-encoded and JSON-escaped", () => {
    const scrub = scrubber(['p@ss/w"rd', null, undefined, "hf_abcdef", "ab"]);
    const text = JSON.stringify({
      a: 'redis://:p@ss/w"rd@host',
      b: `x ${encodeURIComponent('p@ss/w"rd')} y`,
      c: "token hf_abcdef here",
      d: "ab stays (too short to be a secret)",
    });
    const out = scrub(text);
    expect(out).not.toContain("p@ss");
    expect(out).not.toContain("hf_abcdef");
    expect(out).toContain("ab stays");
    expect(JSON.parse(out).c).toBe("token *** here");
  });
});

/**
 * Replay of a non-trivial pool checked against an independent numpy implementation
 * (test/reference/deepconf_reference.py, written from the definitions without reading ours).
 * The pool covers -Infinity/NaN/null log-probs, shuffled and over-long rows, empty and short
 * traces, ties, null answers, interleaved instances and pools smaller than the warmup.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { replayFile } from "../../src/replay/index.js";

const dir = "test/fixtures/reference";

/** Deep equality where numbers may differ by 1e-9 relative (numpy sums in another order). */
function expectClose(actual: unknown, expected: unknown, path = "$"): void {
  if (typeof expected === "number" && typeof actual === "number") {
    const scale = Math.max(1, Math.abs(expected));
    if (Math.abs(actual - expected) > 1e-9 * scale) {
      throw new Error(`${path}: ${actual} differs from the reference ${expected}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${path} length`).toBe(expected.length);
    expected.forEach((item, i) => {
      expectClose((actual as unknown[])[i], item, `${path}[${i}]`);
    });
    return;
  }
  if (expected !== null && typeof expected === "object") {
    for (const [key, value] of Object.entries(expected)) {
      expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
    return;
  }
  expect(actual, path).toStrictEqual(expected);
}

describe.each(["low-w16", "high-w16", "low-w32-notau", "high-k5"])("reference pool, %s", (name) => {
  const expected = JSON.parse(readFileSync(`${dir}/expected-${name}.json`, "utf8"));

  test("replay matches the numpy reference", async () => {
    const { params } = expected;
    // Fixtures without min_voters were made under the old rule (one voter may end sampling).
    const { document } = await replayFile(`${dir}/pool.jsonl`, {
      ...params,
      minVoters: params.min_voters ?? 1,
      variant: null,
    });
    expectClose(document, expected);
  });

  test("the fixture exercises stops and disagreeing methods", () => {
    const instances = expected.instances as Array<{
      online: { stopped: string[] };
      offline: object;
    }>;
    expect(instances.some((i) => i.online.stopped.length > 0)).toBe(true);
    expect(instances.some((i) => new Set(Object.values(i.offline)).size > 1)).toBe(true);
  });
});

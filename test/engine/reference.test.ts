/**
 * Replay of a non-trivial pool checked against an independent numpy implementation
 * (test/reference/deepconf_reference.py, written from the definitions without reading ours).
 * The pool covers -Infinity/NaN/null log-probs, shuffled and over-long rows, empty and short
 * traces, ties, null answers, interleaved instances and pools smaller than the warmup.
 * Every fixture names the min_voters it was made with (rule 5's consensus guard); low-w16-m1
 * keeps the old rule (M = 1), high-k5-m3 a stricter one.
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

interface OnlineResult {
  traces_used: number;
  stopped: string[];
  voted: string[];
  stop_reason: string;
}

interface Fixture {
  params: {
    window: number;
    topk: number;
    tail: number;
    eta: number;
    warmup: number;
    budget: number | null;
    tau: number;
    min_voters: number;
  };
  instances: Array<{ instance_id: string; online: OnlineResult; offline: object }>;
}

const sets = ["low-w16", "high-w16", "low-w32-notau", "high-k5", "low-w16-m1", "high-k5-m3"];

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(`${dir}/expected-${name}.json`, "utf8"));
}

describe.each(sets)("reference pool, %s", (name) => {
  const expected = fixture(name);

  test("replay matches the numpy reference", async () => {
    const { params } = expected;
    expect(Number.isInteger(params.min_voters), "the fixture names its min_voters").toBe(true);
    const { min_voters, ...rest } = params;
    const { document } = await replayFile(`${dir}/pool.jsonl`, {
      ...rest,
      minVoters: min_voters,
      variant: null,
    });
    expectClose(document, expected);
  });

  test("the fixture exercises stops and disagreeing methods", () => {
    const { instances } = expected;
    expect(instances.some((i) => i.online.stopped.length > 0)).toBe(true);
    expect(instances.some((i) => new Set(Object.values(i.offline)).size > 1)).toBe(true);
  });

  test("no consensus stop with fewer than min_voters voters", () => {
    for (const { instance_id, online } of expected.instances) {
      if (online.stop_reason === "consensus") {
        expect(online.voted.length, instance_id).toBeGreaterThanOrEqual(expected.params.min_voters);
      }
    }
  });
});

describe("reference pool, the min_voters guard", () => {
  /** Instances whose online run took a different course (traces, stops, stop reason). */
  function differing(a: Fixture, b: Fixture): string[] {
    return a.instances
      .filter((inst, i) => {
        const other = b.instances[i]?.online;
        return (
          other === undefined ||
          inst.online.traces_used !== other.traces_used ||
          inst.online.stop_reason !== other.stop_reason ||
          inst.online.stopped.join("\n") !== other.stopped.join("\n")
        );
      })
      .map((inst) => inst.instance_id);
  }

  test("the fixtures carry the intended min_voters", () => {
    expect(fixture("low-w16").params.min_voters).toBe(2);
    expect(fixture("low-w16-m1").params.min_voters).toBe(1);
    expect(fixture("high-k5-m3").params.min_voters).toBeGreaterThanOrEqual(3);
  });

  test("M = 2 changes DeepConf-low results against the old rule (M = 1)", () => {
    expect(differing(fixture("low-w16"), fixture("low-w16-m1")).length).toBeGreaterThan(0);
  });

  test("M = 3 changes results against M = 2", () => {
    expect(differing(fixture("high-k5-m3"), fixture("high-k5")).length).toBeGreaterThan(0);
  });

  test("DeepConf-low under M = 2 stops traces early, in more instances than under M = 1", () => {
    const withStops = (f: Fixture) => f.instances.filter((i) => i.online.stopped.length > 0).length;
    const low = fixture("low-w16");
    expect(low.params.eta).toBe(10);
    expect(withStops(low)).toBeGreaterThan(withStops(fixture("low-w16-m1")));
  });

  test("consensus stops still occur under M >= 2", () => {
    const consensusStops = sets
      .map(fixture)
      .filter((f) => f.params.min_voters >= 2)
      .flatMap((f) => f.instances)
      .filter((i) => i.online.stop_reason === "consensus");
    expect(consensusStops.length).toBeGreaterThan(0);
  });
});

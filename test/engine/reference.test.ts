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

/** Our replay of the pool under a fixture's parameters (the reference's own output aside). */
const replays = new Map<string, Promise<Fixture>>();
function replayed(name: string): Promise<Fixture> {
  let result = replays.get(name);
  if (result === undefined) {
    const { min_voters, ...rest } = fixture(name).params;
    result = replayFile(`${dir}/pool.jsonl`, {
      ...rest,
      minVoters: min_voters,
      variant: null,
    }).then(({ document }) => document as unknown as Fixture);
    replays.set(name, result);
  }
  return result;
}

describe.each(sets)("reference pool, %s", (name) => {
  const expected = fixture(name);

  test("replay matches the numpy reference", async () => {
    expect(Number.isInteger(expected.params.min_voters), "the fixture names its min_voters").toBe(
      true,
    );
    expectClose(await replayed(name), expected);
  });

  test("our replay stops traces and its offline methods disagree somewhere", async () => {
    const { instances } = await replayed(name);
    expect(instances.some((i) => i.online.stopped.length > 0)).toBe(true);
    expect(instances.some((i) => new Set(Object.values(i.offline)).size > 1)).toBe(true);
  });

  test("our replay never stops at consensus with fewer than min_voters voters", async () => {
    const { instances, params } = await replayed(name);
    for (const { instance_id, online } of instances) {
      if (online.stop_reason === "consensus") {
        expect(online.voted.length, instance_id).toBeGreaterThanOrEqual(params.min_voters);
      }
    }
  });
});

describe("reference pool, the min_voters guard in our replay", () => {
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

  test("M = 2 changes DeepConf-low results against the old rule (M = 1)", async () => {
    expect((await replayed("low-w16")).params.min_voters).toBe(2);
    expect((await replayed("low-w16-m1")).params.min_voters).toBe(1);
    expect(
      differing(await replayed("low-w16"), await replayed("low-w16-m1")).length,
    ).toBeGreaterThan(0);
  });

  test("M = 3 changes results against M = 2", async () => {
    expect(
      differing(await replayed("high-k5-m3"), await replayed("high-k5")).length,
    ).toBeGreaterThan(0);
  });

  test("DeepConf-low under M = 2 stops traces early, in more instances than under M = 1", async () => {
    const withStops = (f: Fixture) => f.instances.filter((i) => i.online.stopped.length > 0).length;
    const low = await replayed("low-w16");
    expect(low.params.eta).toBe(10);
    expect(withStops(low)).toBeGreaterThan(withStops(await replayed("low-w16-m1")));
  });

  test("consensus stops still occur under M >= 2", async () => {
    const all = await Promise.all(sets.map(replayed));
    const consensusStops = all
      .filter((f) => f.params.min_voters >= 2)
      .flatMap((f) => f.instances)
      .filter((i) => i.online.stop_reason === "consensus");
    expect(consensusStops.length).toBeGreaterThan(0);
  });
});

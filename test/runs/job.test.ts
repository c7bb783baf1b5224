/**
 * runJob on the tiny test model with a recording sink, and the JobSpec it takes: run ids from
 * the spec alone, shards that partition the instances, and predictions that do not depend on how
 * a run was split into jobs or on what was written before them.
 */
import { afterAll, describe, expect, test } from "vitest";
import { runJob } from "../../src/runs/job.js";
import { JobResources } from "../../src/runs/resources.js";
import { type JobSpec, parseJobSpec, runIdOf, selectItems } from "../../src/runs/spec.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import { tinySpec } from "../support/queue.js";
import { testTempDir } from "../support/tiny-model.js";

const cacheDir = testTempDir("cache-");
const resources = new JobResources({ cacheDir });
afterAll(() => resources.close());

/** The tiny model's spec, with a budget that leaves room to sample past the warmup. */
function spec(overrides: Partial<JobSpec> = {}): JobSpec {
  const base = tinySpec({ seed: 3 });
  return {
    ...base,
    params: { ...base.params, maxNewTokens: 8, budget: 6, warmup: 3 },
    ...overrides,
  };
}

/** A sink that keeps what it is given, like a run directory without the disk. */
function recordingSink(finished: string[] = []) {
  const lines: PredictionRecord[] = [];
  const progress: Array<[number, number]> = [];
  return {
    lines,
    progress,
    sink: {
      finished: new Set(finished),
      append: async (p: PredictionRecord) => {
        lines.push(p);
      },
      progress: (done: number, total: number) => progress.push([done, total]),
    },
  };
}

/** What must be equal between two runs of the same instance (timing aside). */
const comparable = ({ elapsed_ms: _, ...rest }: PredictionRecord) => rest;

describe("runJob", () => {
  test("hands every selected instance to the sink, with the run id, in order, with progress", async () => {
    const job = spec();
    const { lines, progress, sink } = recordingSink();
    const outcome = await runJob(job, sink, { resources });
    expect(outcome).toEqual({ runId: runIdOf(job), total: 6, done: 6, interrupted: false });
    expect(lines.map((p) => p.run_id)).toEqual(Array(6).fill(runIdOf(job)));
    const ids = lines.map((p) => p.instance_id);
    expect(new Set(ids).size).toBe(6);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6].map((done) => [done, 6]));
    for (const p of lines) {
      // No running threshold on the line: its bucket is computed over the whole run later.
      expect(p.bucket).toBeNull();
      expect(p.threshold).toBeNull();
      // Sampling ends before the budget only at a consensus of at least min_voters voters.
      if (p.traces.length < job.params.budget) {
        expect(p.traces.filter((t) => t.voted).length).toBeGreaterThanOrEqual(2);
      }
    }
  }, 60_000);

  test("skips finished instances and stops after the instance in flight when aborted", async () => {
    const job = spec();
    const all = recordingSink();
    await runJob(job, all.sink, { resources });
    const ids = all.lines.map((p) => p.instance_id);

    const resumed = recordingSink(ids.slice(0, 4));
    const outcome = await runJob(job, resumed.sink, { resources });
    expect(resumed.lines.map((p) => p.instance_id)).toEqual(ids.slice(4));
    expect(outcome.done).toBe(6);
    expect(resumed.lines.map(comparable)).toEqual(all.lines.slice(4).map(comparable));

    const abort = new AbortController();
    const interrupted = recordingSink();
    interrupted.sink.append = async (p) => {
      interrupted.lines.push(p);
      abort.abort();
    };
    const stopped = await runJob(job, interrupted.sink, { resources, signal: abort.signal });
    expect(stopped).toMatchObject({ done: 1, total: 6, interrupted: true });
    expect(interrupted.lines).toHaveLength(1);
  }, 60_000);

  test("three shards give exactly the predictions of the whole run", async () => {
    const whole = recordingSink();
    await runJob(spec(), whole.sink, { resources });
    const sharded: PredictionRecord[] = [];
    // Another process's cache: shards must not depend on what the first one loaded.
    const other = new JobResources({ cacheDir });
    try {
      for (let index = 2; index >= 0; index--) {
        const part = recordingSink();
        const shard = spec({ selection: { limit: 6, shard: { index, count: 3 }, ids: null } });
        expect(runIdOf(shard)).toBe(runIdOf(spec()));
        await runJob(shard, part.sink, { resources: other });
        sharded.push(...part.lines);
      }
    } finally {
      await other.close();
    }
    const byId = (a: { instance_id: string }, b: { instance_id: string }) =>
      a.instance_id < b.instance_id ? -1 : 1;
    expect(sharded.map(comparable).sort(byId)).toEqual(whole.lines.map(comparable).sort(byId));
  }, 120_000);

  test("a shard's model load failure is a clear error and is not cached", async () => {
    const missing = spec({ model: { id: "/nonexistent/model", revision: null, hash: null } });
    const { sink } = recordingSink();
    await expect(runJob(missing, sink, { resources })).rejects.toThrow(/does not exist/);
    expect(resources.loadedModels.some((key) => key.startsWith("/nonexistent"))).toBe(false);
  });
});

describe("JobSpec", () => {
  test("the run id depends on what decides results, not on the shard, ids or device", () => {
    const base = runIdOf(spec());
    expect(runIdOf(spec({ device: "cuda" }))).toBe(base);
    expect(
      runIdOf(spec({ selection: { limit: 6, shard: { index: 1, count: 4 }, ids: null } })),
    ).toBe(base);
    expect(runIdOf(spec({ seed: 4 }))).not.toBe(base);
    expect(runIdOf(spec({ selection: { limit: 7, shard: null, ids: null } }))).not.toBe(base);
    expect(runIdOf(spec({ dtype: "fp16" }))).not.toBe(base);
    const params = { ...spec().params, minVoters: 1 };
    expect(runIdOf(spec({ params }))).not.toBe(base);
    expect(base).toMatch(/^sample-qwen3-tiny-deepconf-low-[0-9a-f]{8}$/);
  });

  test("the run id does not depend on key order, and survives a JSON round trip", () => {
    const original = spec();
    const reversed = (o: object) => Object.fromEntries(Object.entries(o).reverse());
    const reordered = {
      ...reversed(original),
      params: reversed(original.params),
    } as JobSpec;
    expect(runIdOf(parseJobSpec(JSON.parse(JSON.stringify(original))))).toBe(runIdOf(original));
    expect(Object.keys(reordered)[0]).toBe("selection");
    expect(runIdOf(reordered)).toBe(runIdOf(original));
  });

  test("parseJobSpec names the bad field", () => {
    const bad = { ...spec(), method: "greedy" };
    expect(() => parseJobSpec(bad, "job j1")).toThrow(/^job j1: method: /);
    const extra = { ...spec(), gpu: 1 };
    expect(() => parseJobSpec(extra)).toThrow(/gpu/);
    const shard = {
      ...spec(),
      selection: { limit: null, shard: { index: 3, count: 3 }, ids: null },
    };
    expect(() => parseJobSpec(shard)).toThrow(/selection\.shard: shard index must be below/);
  });

  test("shards partition the instances into contiguous near-equal parts", () => {
    const items = Array.from({ length: 10 }, (_, i) => ({
      id: `i${i}`,
      prompt: "p",
      shouldRefuse: false,
      benchmark: "b",
    }));
    const parts = [0, 1, 2].map((index) =>
      selectItems(items, { limit: null, ids: null, shard: { index, count: 3 } }).map((i) => i.id),
    );
    expect(parts.map((p) => p.length)).toEqual([3, 3, 4]);
    expect(parts.flat()).toEqual(items.map((i) => i.id));
    expect(
      selectItems(items, { limit: null, ids: ["i7", "i2"], shard: null }).map((i) => i.id),
    ).toEqual(["i2", "i7"]);
    expect(() => selectItems(items, { limit: null, ids: ["nope"], shard: null })).toThrow(/nope/);
  });
});

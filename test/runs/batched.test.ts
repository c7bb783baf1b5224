/**
 * Continuous batching across instances (--max-rows): predictions must not depend on R or on
 * batch mates. For every method, the same spec run through the per-instance loop and at R = 8,
 * 32 and 128 gives the same texts, token counts, finish reasons, answers and votes, with
 * confidences equal within 1e-6 relative. At the decoder: a request decoded alone and the same
 * request joining rows of other prompts (shorter and longer, so the batch shifts and trims)
 * gives identical token ids. And memory: RSS stays flat over 520 instances at R = 32.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadModel } from "../../src/inference/model.js";
import { instancesInFlight, runJob } from "../../src/runs/job.js";
import { JobResources } from "../../src/runs/resources.js";
import type { JobSpec } from "../../src/runs/spec.js";
import type { Method } from "../../src/safety/methods.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import { tinySpec } from "../support/queue.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

const cacheDir = testTempDir("cache-");
const pools: JobResources[] = [];
afterAll(() => Promise.all(pools.map((r) => r.close())));

function spec(method: Method, limit = 16): JobSpec {
  const base = tinySpec({ method, seed: 11 }, limit);
  return {
    ...base,
    params: { ...base.params, maxNewTokens: 12, budget: 6, warmup: 3, parallel: 2 },
    measureBaseline: method === "deepconf-low",
  };
}

async function predictions(job: JobSpec, maxRows: number | null): Promise<PredictionRecord[]> {
  const resources = new JobResources({ cacheDir, maxRows });
  pools.push(resources);
  const lines: PredictionRecord[] = [];
  await runJob(
    job,
    { finished: new Set(), append: async (p) => void lines.push(p) },
    { resources },
  );
  return lines.sort((a, b) => (a.instance_id < b.instance_id ? -1 : 1));
}

/** Everything but timing and confidences: compared exactly. */
function exact(p: PredictionRecord) {
  return {
    ...p,
    elapsed_ms: 0,
    confidence: null,
    stop_threshold: null,
    traces: p.traces.map((t) => ({ ...t, confidence: null })),
  };
}

/** Every confidence of a prediction, in a fixed order. */
function confidences(p: PredictionRecord): Array<number | null> {
  return [
    p.confidence,
    p.stop_threshold,
    ...p.traces.flatMap((t) => Object.values(t.confidence) as Array<number | null>),
  ];
}

/** Confidences equal within 1e-6 relative (float noise of a different batch layout). */
function expectClose(actual: PredictionRecord[], expected: PredictionRecord[], what: string) {
  actual.forEach((p, i) => {
    const want = confidences(expected[i] as PredictionRecord);
    confidences(p).forEach((x, k) => {
      const y = want[k] as number | null;
      if (x === null || y === null) expect(x, what).toBe(y);
      else
        expect(Math.abs(x - y), `${what}: ${p.instance_id}`).toBeLessThanOrEqual(
          1e-6 * Math.abs(y),
        );
    });
  });
}

describe("predictions do not depend on --max-rows", () => {
  for (const method of ["deepconf-low", "deepconf-high", "baseline", "offline"] as const) {
    test(method, async () => {
      const job = spec(method);
      const loop = await predictions(job, null);
      expect(loop).toHaveLength(16);
      expect(loop.some((p) => p.traces.some((t) => t.stopped_early))).toBe(
        method.startsWith("deepconf"),
      );
      for (const rows of [8, 32, 128]) {
        const batched = await predictions(job, rows);
        expect(batched.map(exact), `R = ${rows}`).toEqual(loop.map(exact));
        expectClose(batched, loop, `R = ${rows}`);
      }
    }, 120_000);
  }

  test("instances in flight: one for the loop, enough rounds to fill R otherwise", () => {
    const job = spec("deepconf-low");
    expect(instancesInFlight(job, null)).toBe(1);
    // Rounds of min(warmup 3, parallel 2) = 2 traces: 2R / 2 instances.
    expect(instancesInFlight(job, 32)).toBe(32);
    expect(instancesInFlight(spec("baseline"), 12)).toBe(4);
  });
});

describe("the decoder's rows do not depend on their batch mates", () => {
  test("a request alone and joining longer and shorter prompts mid-decode: identical token ids", async () => {
    const model = await loadModel(tinyModelDir(), {
      dtype: "fp32",
      device: "cpu",
      topk: 5,
      cacheDir,
    });
    const options = {
      sampling: { greedy: false, temperature: 1, topK: 5, topP: 1 },
      maxNewTokens: 40,
      eosTokenIds: new Set<number>(),
      padTokenId: 0,
    };
    const prompt = (length: number, start: number) =>
      Array.from({ length }, (_, i) => 100 + ((start + 7 * i) % 500));
    const target = { inputIds: prompt(20, 1), traces: 3, seed: 42 };
    const alone = await model.decoder.generate([target], options);

    // A long-running request first, then the target (shorter: padded), then a longer prompt
    // (the batch shifts right), while rows finish and padding gets trimmed.
    const { decoder } = model;
    const early = decoder.submit({ inputIds: prompt(8, 2), traces: 2, seed: 1 }, options);
    const joined = decoder.submit(target, { ...options, maxRows: 64 });
    const longer = decoder.submit(
      { inputIds: prompt(60, 3), traces: 2, seed: 2 },
      {
        ...options,
        maxNewTokens: 10,
      },
    );
    const [, batched] = await Promise.all([early, joined, longer]);
    expect(batched.map((t) => t.tokenIds)).toEqual(alone.traces.map((t) => t.tokenIds));
    expect(decoder.rowsInFlight).toBe(0);
  });
});

describe("memory over a long batched run", () => {
  test("RSS stays flat over 520 instances at R = 32", async () => {
    const dir = testTempDir("long-run-");
    const file = join(dir, "prompts.jsonl");
    const rows = Array.from({ length: 520 }, (_, i) =>
      JSON.stringify({
        prompt: `Request number ${i}: ${"please ".repeat(i % 7)}help`,
        label: i % 2,
      }),
    );
    writeFileSync(file, `${rows.join("\n")}\n`);
    const base = spec("deepconf-low", 520);
    const job: JobSpec = {
      ...base,
      benchmark: { spec: `jsonl:${file}`, revision: null },
      params: { ...base.params, maxNewTokens: 6, budget: 4, warmup: 2 },
      measureBaseline: false,
    };
    const resources = new JobResources({ cacheDir, maxRows: 32 });
    pools.push(resources);
    const rss: number[] = [];
    let count = 0;
    await runJob(
      job,
      {
        finished: new Set(),
        append: async () => {
          count += 1;
          if (count % 130 === 0) rss.push(process.memoryUsage().rss);
        },
      },
      { resources },
    );
    expect(count).toBe(520);
    // After the first quarter (buffers at their peak), no growth beyond 40 MiB.
    const [first, ...later] = rss as [number, ...number[]];
    for (const value of later) expect((value - first) / 2 ** 20).toBeLessThan(40);
  }, 300_000);
});

/**
 * Tuning DeepConf offline: a run directory replays exactly like its exported pool, `deepconf
 * tune` is deterministic under a seed, and its numbers follow from the pool by hand.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { LabelledPoolInstance } from "../../src/replay/run-pool.js";
import { paretoFrontier, tune } from "../../src/replay/tune.js";
import { deepconf } from "../support/cli.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

/** A baseline run of the tiny model: 6 instances x 4 complete traces. */
async function baselineRun(method = "baseline"): Promise<string> {
  const out = testTempDir("tune-run-");
  const run = await deepconf(
    "run",
    "--model",
    tinyModelDir(),
    "--benchmark",
    "sample",
    "--limit",
    "6",
    "--method",
    method,
    "--budget",
    "4",
    "--warmup",
    "2",
    "--max-new-tokens",
    "24",
    "--out",
    out,
    "--cache-dir",
    join(out, "cache"),
  );
  expect(run.code, run.stderr).toBe(0);
  const dirs = readdirSync(out).filter((name) => name !== "cache");
  return join(out, dirs[0] as string);
}

let runDir: string;
beforeAll(async () => {
  runDir = await baselineRun();
});

const replayArgs = ["--json", "--window", "4", "--warmup", "2", "--tau", "0.95"];

describe("a run directory as a pool", () => {
  test("replaying the run equals replaying its exported pool", async () => {
    const pool = join(testTempDir("pool-"), "pool.jsonl");
    const exported = await deepconf("pool", "export", runDir, "--out", pool);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/wrote 24 traces of 6 instances/);
    const line = JSON.parse(readFileSync(pool, "utf8").split("\n")[0] as string);
    expect(Object.keys(line).sort()).toEqual(
      ["answer", "confidences", "instance_id", "k", "should_refuse", "trace_id"].sort(),
    );
    const fromRun = await deepconf("replay", runDir, ...replayArgs);
    const fromPool = await deepconf("replay", pool, ...replayArgs);
    expect(fromRun.code, fromRun.stderr).toBe(0);
    expect(fromPool.code, fromPool.stderr).toBe(0);
    expect(JSON.parse(fromRun.stdout)).toEqual(JSON.parse(fromPool.stdout));
    // and both replay the recorded traces: the recorded token counts are the baseline
    const predictions = readFileSync(join(runDir, "predictions.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const recorded = predictions.reduce(
      (sum, p) => sum + p.traces.reduce((s: number, t: { tokens: number }) => s + t.tokens, 0),
      0,
    );
    expect(JSON.parse(fromRun.stdout).totals.tokens_baseline).toBe(recorded);
  });

  test("an online-method run is refused: its traces were stopped early", async () => {
    const online = await baselineRun("deepconf-low");
    const run = await deepconf("tune", online);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/replay needs complete traces.*--method baseline/);
  });
});

describe("deepconf tune", () => {
  const tuneArgs = ["--window", "4,8", "--eta", "10,90", "--warmup", "2", "--tau", "0.9,1"];

  test("the same seed gives the same frontier and intervals; tuning.json is written", async () => {
    const first = await deepconf("tune", runDir, ...tuneArgs, "--json", "--resamples", "200");
    const second = await deepconf("tune", runDir, ...tuneArgs, "--json", "--resamples", "200");
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.settings).toHaveLength(2 * 2 * 1 * 2 * 3);
    expect(a.frontier.length).toBeGreaterThan(0);
    expect(JSON.parse(second.stdout)).toEqual(a);
    const saved = JSON.parse(readFileSync(join(runDir, "tuning.json"), "utf8"));
    expect(saved.frontier).toEqual(a.frontier);
    // another seed moves the intervals, never the point estimates
    const other = JSON.parse(
      (await deepconf("tune", runDir, ...tuneArgs, "--json", "--resamples", "200", "--seed", "7"))
        .stdout,
    );
    expect(other.settings.map((s: { accuracy: { value: number } }) => s.accuracy.value)).toEqual(
      a.settings.map((s: { accuracy: { value: number } }) => s.accuracy.value),
    );
  });

  test("the text report names the frontier, the recommendation and the caveat", async () => {
    const run = await deepconf("tune", runDir, ...tuneArgs, "--shuffle-seeds", "2", "--no-save");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Pareto frontier (accuracy vs tokens):");
    expect(run.stdout).toContain("Caveat: Replay draws the online traces");
    expect(run.stdout).toContain("accuracy / savings over orderings");
  });

  test("a bad grid value is exit 2 naming the flag", async () => {
    const run = await deepconf("tune", runDir, "--eta", "10,150");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--eta: "150" is not a percentage in (0, 100]');
  });
});

describe("tune's numbers by hand", () => {
  /** n tokens of constant confidence c. */
  const flat = (n: number, c: number) => new Float64Array(n).fill(c);
  const instance = (
    id: string,
    shouldRefuse: boolean,
    traces: Array<[string | null, Float64Array]>,
  ): LabelledPoolInstance => ({
    instanceId: id,
    shouldRefuse,
    traces: traces.map(([answer, confidences], i) => ({ traceId: `t${i}`, answer, confidences })),
  });
  // Harmful prompt refused by every trace; benign prompt refused too (an over-refusal); a third
  // harmful prompt answered by confident compliance and one unconfident refusal.
  const pool = [
    instance("a", true, [
      ["refusal", flat(10, 5)],
      ["refusal", flat(10, 5)],
      ["refusal", flat(10, 5)],
    ]),
    instance("b", false, [
      ["refusal", flat(10, 5)],
      ["refusal", flat(10, 5)],
      ["refusal", flat(10, 5)],
    ]),
    instance("c", true, [
      ["compliance", flat(10, 5)],
      ["compliance", flat(10, 5)],
      ["refusal", flat(10, 1)],
    ]),
  ];
  const grid = (warmup: number, tau: number, minVoters: number) => ({
    window: [4],
    eta: [90],
    warmup: [warmup],
    tau: [tau],
    minVoters: [minVoters],
    budget: [null],
  });

  test("no early stop (warmup = every trace, tau 1): baseline tokens, majority answers", () => {
    const result = tune(pool, { grid: grid(3, 1, 2), topk: 5, resamples: 50 });
    const [s] = result.settings;
    expect(s?.tokens.value).toBe(90);
    expect(s?.savings.value).toBe(0);
    // a right, b wrong (over-refusal), c wrong (compliance to a harmful prompt)
    expect(s?.accuracy.value).toBeCloseTo(1 / 3, 12);
    expect(s?.recall.value).toBeCloseTo(1 / 2, 12);
    expect(s?.over_refusal.value).toBe(1);
    expect(result.baseline.accuracy.value).toBeCloseTo(1 / 3, 12);
    expect(result.baseline.tokens).toBe(90);
  });

  test("consensus after one warmup trace with one voter stops sampling: fewer tokens", () => {
    const result = tune(pool, { grid: grid(1, 0.9, 1), topk: 5, resamples: 50 });
    const [s] = result.settings;
    // each instance: its first trace sets the threshold and is unanimous on its own
    expect(s?.tokens.value).toBe(30);
    expect(s?.savings.value).toBeCloseTo(1 - 30 / 90, 12);
    expect(s?.accuracy.value).toBeCloseTo(1 / 3, 12);
    expect(s?.matches_baseline).toBe(true);
    expect(result.recommended[0]).toBe(0);
  });

  test("the Pareto frontier keeps exactly the undominated points, by tokens", () => {
    const points = [
      { accuracy: 0.9, tokens: 100 },
      { accuracy: 0.8, tokens: 50 },
      { accuracy: 0.8, tokens: 60 }, // dominated by the second
      { accuracy: 0.95, tokens: 200 },
      { accuracy: 0.7, tokens: 300 }, // dominated by everything cheaper and better
    ];
    expect(paretoFrontier(points)).toEqual([1, 0, 3]);
  });
});

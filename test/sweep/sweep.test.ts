/**
 * Sweeps without a queue: sweep files and their errors, plans whose ids come from the specs
 * alone (a hub model pinned to its commit through the local hub stand-in), the sweep directory,
 * the in-process executor (the embedded default) against runJob, resuming, and status.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CONFIDENCES, joinConfidences, readConfidences } from "../../src/runs/confidences.js";
import { readPredictions } from "../../src/runs/predictions.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import { loadSweep, runDir, SWEEP_MANIFEST } from "../../src/sweep/directory.js";
import { prepareSweep, runSweepHere } from "../../src/sweep/launch.js";
import { estimatePlan, planSweep } from "../../src/sweep/plan.js";
import { parseSweepText } from "../../src/sweep/schema.js";
import { sweepStatus } from "../../src/sweep/status.js";
import { deepconf } from "../support/cli.js";
import { FakeHub } from "../support/fake-hub.js";
import { inProcessPredictions } from "../support/queue.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

const cacheDir = testTempDir("cache-");

function sweepYaml(extra = ""): string {
  return [
    "name: unit",
    "models:",
    `  - ${tinyModelDir()}`,
    "benchmarks:",
    "  - spec: sample",
    "    limit: 5",
    "methods: [deepconf-low, baseline]",
    "params: {maxNewTokens: 6, budget: 4, warmup: 2, window: 3, tail: 3, parallel: 2}",
    "shardSize: 2",
    extra,
  ].join("\n");
}

function writeSweepFile(text: string): string {
  const dir = testTempDir("sweepfile-");
  const path = join(dir, "sweep.yaml");
  writeFileSync(path, text);
  return path;
}

const comparable = ({ elapsed_ms: _, ...rest }: PredictionRecord) => rest;
const byId = (a: { instance_id: string }, b: { instance_id: string }) =>
  a.instance_id < b.instance_id ? -1 : 1;

describe("sweep files", () => {
  test.each([
    ["modles: []", /unit\.yaml: modles: unknown key: did you mean models\?/],
    ["methods: [greedy]", /methods\[0\]/],
    ["shardSize: 0", /shardSize: must be >= 1/],
    ["params: {budegt: 3}", /params\.budegt: unknown key: did you mean budget\?/],
  ])("%s is rejected naming file, path and reason", (line, message) => {
    // The line replaces the file's line with the same key, or is added.
    const key = line.split(":")[0] as string;
    const base = sweepYaml();
    const pattern = new RegExp(`^${key}:.*$`, "m");
    const text = pattern.test(base) ? base.replace(pattern, line) : `${base}\n${line}`;
    expect(() => parseSweepText(text, "unit.yaml")).toThrow(message);
  });

  test("sweep plan on a malformed file: exit 2, nothing written", async () => {
    const path = writeSweepFile(`${sweepYaml()}\nseeds: [-1]`);
    const out = testTempDir("sweeps-");
    const run = await deepconf("sweep", "launch", path, "--out", out, "--cache-dir", cacheDir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/sweep\.yaml: seeds\[0\]: must be >= 0/);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("sweep plan", () => {
  test("the same file plans to the same ids; shard size changes only the sweep and job ids", async () => {
    const options = { cacheDir, baseDir: "/" };
    const first = await planSweep(parseSweepText(sweepYaml(), "a"), options);
    const again = await planSweep(parseSweepText(sweepYaml(), "a"), options);
    expect(again.sweepId).toBe(first.sweepId);
    expect(again.runs.map((r) => r.shards.map((s) => s.jobId))).toEqual(
      first.runs.map((r) => r.shards.map((s) => s.jobId)),
    );
    expect(first.runs).toHaveLength(2);
    // 5 instances in shards of 2: 3 shards, contiguous, all instances once.
    for (const run of first.runs) {
      expect(run.shards.map((s) => s.instanceIds.length)).toEqual([1, 2, 2]);
      expect(new Set(run.shards.flatMap((s) => s.instanceIds)).size).toBe(5);
      expect(run.shards.every((s) => !s.jobId.includes(":"))).toBe(true);
    }
    const bigger = await planSweep(
      parseSweepText(sweepYaml().replace("shardSize: 2", "shardSize: 3"), "a"),
      options,
    );
    expect(bigger.sweepId).not.toBe(first.sweepId);
    expect(bigger.runs.map((r) => r.runId)).toEqual(first.runs.map((r) => r.runId));
  });

  test("estimates: the bound is budget x max tokens; the online floor is the warmup's share", async () => {
    const plan = await planSweep(parseSweepText(sweepYaml(), "a"), { cacheDir, baseDir: "/" });
    const estimate = estimatePlan(plan, 100, 2);
    const [low, baseline] = estimate.runs;
    expect(low).toMatchObject({
      method: "deepconf-low",
      tokens_upper_bound: 5 * 4 * 6,
      tokens_floor: 5 * 2 * 6,
    });
    expect(baseline).toMatchObject({ tokens_upper_bound: 5 * 4 * 6, tokens_floor: 5 * 4 * 6 });
    expect(estimate.gpu_hours?.upper_bound).toBeCloseTo(240 / 100 / 3600, 12);
    expect(estimate.cost?.upper_bound).toBeCloseTo((240 / 100 / 3600) * 2, 12);
  });

  describe("a hub model", () => {
    let hub: FakeHub;
    let sha: string;
    beforeAll(async () => {
      hub = await FakeHub.start();
      sha = hub.addRepo({
        id: "org/qwen3-fake",
        files: {
          "config.json": JSON.stringify({ model_type: "qwen3", eos_token_id: 2 }),
          "generation_config.json": JSON.stringify({ temperature: 0.55, top_p: 0.9, top_k: 30 }),
          "onnx/model.onnx": "weights are not fetched at plan time",
        },
      });
    });
    afterAll(() => hub.close());

    test("is pinned to its commit and gives its sampling defaults, without the weights", async () => {
      const text = sweepYaml().replace(tinyModelDir(), "org/qwen3-fake");
      const plan = await planSweep(parseSweepText(text, "a"), {
        cacheDir: testTempDir("hubcache-"),
        baseDir: "/",
        hub: { endpoint: hub.url, token: null },
      });
      expect(plan.runs[0]?.spec.model).toEqual({ id: "org/qwen3-fake", revision: sha, hash: null });
      expect(plan.runs[0]?.spec.params.sampling).toMatchObject({
        temperature: 0.55,
        topP: 0.9,
        topK: 30,
      });
      expect(plan.runs[0]?.samplingSource.temperature).toBe("generation_config.json");
      expect(hub.requests.some((r) => r.path.includes("model.onnx"))).toBe(false);
    });
  });
});

describe("sweep launch in this process", () => {
  test("writes the sweep directory and runs; predictions equal runJob's; status says done", async () => {
    const out = testTempDir("sweeps-");
    const path = writeSweepFile(sweepYaml());
    const manifest = await prepareSweep(path, { out, cacheDir });
    expect(existsSync(join(out, manifest.sweep_id, SWEEP_MANIFEST))).toBe(true);
    expect(readFileSync(join(out, manifest.sweep_id, SWEEP_MANIFEST), "utf8")).toContain(
      "instance_ids",
    );
    await runSweepHere(manifest, { out, cacheDir });
    const status = await sweepStatus(manifest, out);
    expect(status).toMatchObject({
      state: "done",
      instances: { done: 10, total: 10 },
      shards: { waiting: 0, active: 0, done: 6, failed: 0 },
    });

    for (const run of manifest.runs) {
      const { predictions, duplicates } = await readPredictions(
        join(runDir(out, run.run_id), "predictions.jsonl"),
        { mode: "read-only" },
      );
      expect(duplicates).toBe(0);
      expect(predictions.every((p) => p.run_id === run.run_id)).toBe(true);
      const direct = await inProcessPredictions(run.spec, cacheDir);
      expect(predictions.map(comparable).sort(byId)).toEqual(direct.map(comparable).sort(byId));
      // Each line's traces' confidences beside it, one record per instance.
      const sidecar = await readConfidences(join(runDir(out, run.run_id), CONFIDENCES));
      expect(sidecar).toMatchObject({ records: 5, duplicates: 0, torn: false });
      const joined = joinConfidences(predictions, sidecar);
      expect(joined).toMatchObject({ missing: [], mismatched: [], orphans: [] });
    }
  }, 120_000);

  test("an interrupted launch resumes: nothing lost, nothing twice", async () => {
    const out = testTempDir("sweeps-");
    const path = writeSweepFile(sweepYaml());
    const manifest = await prepareSweep(path, { out, cacheDir });
    const abort = new AbortController();
    let written = 0;
    const first = await runSweepHere(manifest, {
      out,
      cacheDir,
      signal: abort.signal,
      onPrediction: () => {
        if (++written === 3) abort.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    expect((await sweepStatus(manifest, out)).instances.done).toBe(3);

    // Launching the same file again finds the same sweep and finishes it.
    const again = await prepareSweep(path, { out, cacheDir });
    expect(again.sweep_id).toBe(manifest.sweep_id);
    const second = await runSweepHere(again, { out, cacheDir });
    expect(second.interrupted).toBe(false);
    const status = await sweepStatus(await loadSweep(out, manifest.sweep_id), out);
    expect(status.instances).toEqual({ done: 10, total: 10 });
    for (const run of manifest.runs) {
      const lines = readFileSync(join(runDir(out, run.run_id), "predictions.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean);
      expect(lines).toHaveLength(5);
    }
  }, 120_000);

  test("sweep launch --json and sweep status --json report the documented shapes", async () => {
    const out = testTempDir("sweeps-");
    const path = writeSweepFile(sweepYaml());
    const launch = await deepconf(
      "sweep",
      "launch",
      path,
      "--out",
      out,
      "--cache-dir",
      cacheDir,
      "--json",
    );
    expect(launch.code).toBe(0);
    const report = JSON.parse(launch.stdout);
    expect(Object.keys(report)).toEqual(["sweep_id", "sweep_dir", "runs", "shards"]);
    expect(report.shards).toBe(6);
    expect(report.runs).toHaveLength(2);
    for (const run of report.runs) {
      expect(Object.keys(run)).toEqual(["run_id", "run_dir", "instances"]);
      expect(existsSync(join(run.run_dir, "summary.json"))).toBe(true);
    }
    const status = await deepconf("sweep", "status", report.sweep_id, "--out", out, "--json");
    expect(status.code).toBe(0);
    const body = JSON.parse(status.stdout);
    expect(body).toMatchObject({
      sweep_id: report.sweep_id,
      state: "done",
      instances: { done: 10, total: 10 },
      shards: { waiting: 0, active: 0, done: 6, failed: 0 },
      workers: [],
    });
    expect(body.runs[0]).toHaveProperty("early_stop_rate");
    const unknown = await deepconf("sweep", "status", "nope", "--out", out);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no sweep nope/);
  }, 120_000);
});

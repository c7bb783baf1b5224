/** deepconf run end to end on the tiny test model: run directory, resume, kill, rescore. */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { traceStats } from "../../src/engine/stats.js";
import { CONFIDENCES, joinConfidences, readConfidences } from "../../src/runs/confidences.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import { deepconf } from "../support/cli.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

const small = [
  "--max-new-tokens",
  "6",
  "--budget",
  "5",
  "--warmup",
  "3",
  "--window",
  "3",
  "--parallel",
  "2",
];

function runArgs(out: string, ...extra: string[]) {
  return [
    "run",
    "--model",
    tinyModelDir(),
    "--benchmark",
    "sample",
    "--out",
    out,
    "--cache-dir",
    join(out, "cache"),
    ...small,
    ...extra,
  ];
}

function lines(dir: string) {
  return readFileSync(join(dir, "predictions.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

function runDir(out: string): string {
  const dirs = readdirSync(out).filter((name) => name !== "cache");
  expect(dirs).toHaveLength(1);
  return join(out, dirs[0] as string);
}

describe("deepconf run", () => {
  test("writes manifest, one prediction line per instance and a summary", async () => {
    const out = testTempDir("runs-");
    const run = await deepconf(...runArgs(out, "--limit", "3", "--json"));
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const dir = runDir(out);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest.config).toMatchObject({
      benchmark: expect.stringContaining("sample"),
      method: "deepconf-low",
      seed: 0,
      limit: 3,
    });
    expect(manifest.config.params).toMatchObject({
      window: 3,
      tail: 3,
      budget: 5,
      warmup: 3,
      maxNewTokens: 6,
    });
    expect(manifest.model.fileHash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.dataset.source).toBeDefined();
    const predictions = lines(dir);
    expect(predictions).toHaveLength(3);
    for (const p of predictions) {
      for (const key of [
        "instance_id",
        "benchmark",
        "model",
        "method",
        "prompt",
        "should_refuse",
        "refused",
        "abstained",
        "refusal_rate",
        "confidence",
        "bucket",
        "correct",
        "tokens",
        "traces",
        "threshold",
        "seed",
        "elapsed_ms",
      ]) {
        expect(p).toHaveProperty(key);
      }
      // No answer is an abstention (refused and correct null), never a compliance.
      expect(p.abstained).toBe(p.refused === null);
      expect(p.correct).toBe(p.refused === null ? null : p.refused === p.should_refuse);
      expect(p.tokens.baseline_kind).toBe("upper_bound");
      expect(p.tokens.baseline).toBe(5 * 6);
      // Traces t0, t1, ... in order; sampling ends before the budget only at a consensus of
      // at least min_voters (2) voting traces.
      expect(p.traces.map((t: { trace_id: string }) => t.trace_id)).toEqual(
        p.traces.map((_: unknown, i: number) => `t${i}`),
      );
      expect(p.traces.length).toBeLessThanOrEqual(5);
      if (p.traces.length < 5) {
        expect(p.traces.filter((t: { voted: boolean }) => t.voted).length).toBeGreaterThanOrEqual(
          2,
        );
      }
      for (const t of p.traces) {
        expect(Object.keys(t)).toEqual(
          expect.arrayContaining([
            "trace_id",
            "text",
            "tokens",
            "refusal_kind",
            "stopped_early",
            "voted",
            "confidence",
          ]),
        );
        expect(t.tokens).toBeLessThanOrEqual(6);
      }
      expect(p.tokens.generated).toBe(
        p.traces.reduce((s: number, t: { tokens: number }) => s + t.tokens, 0),
      );
    }
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ n: 3, total: 3, complete: true, abstain_as: "exclude" });
    const abstained = predictions.filter((p) => p.refused === null).length;
    expect(summary.abstentions).toEqual({ n: abstained, rate: abstained / 3 });
    expect(summary.scored).toBe(3 - abstained);
    expect(JSON.parse(run.stdout).dir).toBe(dir);
  });

  test("confidences.bin holds every prediction's C_i, which give back its recorded confidences", async () => {
    const out = testTempDir("runs-");
    // Longer answers, so later traces are stopped early; Cons@B's extra traces are measured.
    const args = ["--limit", "4", "--max-new-tokens", "12", "--measure-baseline"];
    expect((await deepconf(...runArgs(out, ...args))).code).toBe(0);
    const dir = runDir(out);
    const predictions: PredictionRecord[] = lines(dir);
    const file = await readConfidences(join(dir, CONFIDENCES));
    expect(file).toMatchObject({ records: 4, duplicates: 0, torn: false });
    const joined = joinConfidences(predictions, file);
    // Trace ids and token counts agree (n == tokens): the Cons@B traces are not in it.
    expect(joined).toMatchObject({ missing: [], mismatched: [], orphans: [] });
    expect(joined.matched.size).toBe(4);
    const params = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).config.params;
    let stopped = 0;
    for (const p of predictions) {
      const entry = joined.matched.get(p.instance_id);
      expect(entry?.k).toBe(params.topk);
      for (const t of p.traces) {
        const values = entry?.traces.get(t.trace_id) as Float32Array;
        if (t.stopped_early) {
          stopped++;
          expect(values.length).toBeLessThan(12);
        }
        // The engine on the stored float32 C_i gives the line's statistics back (float32
        // rounding: ~1e-7 relative).
        const again = traceStats(values, { window: params.window, tail: params.tail });
        for (const kind of ["mean", "lowest", "bottom10", "tail"] as const) {
          const recorded = t.confidence[kind];
          if (recorded === null) expect(again[kind]).toBeNull();
          else expect(Math.abs((again[kind] as number) - recorded)).toBeLessThan(1e-6 * recorded);
        }
      }
    }
    expect(stopped).toBeGreaterThan(0);
  });

  test("rerunning resumes: finished instances are skipped, a cut-off last line is redone", async () => {
    const out = testTempDir("runs-");
    expect((await deepconf(...runArgs(out, "--limit", "3"))).code).toBe(0);
    const dir = runDir(out);
    const path = join(dir, "predictions.jsonl");
    const text = readFileSync(path, "utf8");
    const firstTwo = text.split("\n").slice(0, 2).join("\n");
    // A crash in the middle of writing the third line.
    writeFileSync(path, `${firstTwo}\n${text.split("\n")[2]?.slice(0, 40)}`);
    const again = await deepconf(...runArgs(out, "--limit", "3"));
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/resuming: 2 of 3/);
    const ids = lines(dir).map((p) => p.instance_id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    const third = await deepconf(...runArgs(out, "--limit", "3"));
    expect(third.stderr).toMatch(/resuming: 3 of 3/);
    expect(lines(dir)).toHaveLength(3);
    // A line delivered twice (at-least-once) counts once, and resume says it dropped it.
    const first = readFileSync(path, "utf8").split("\n")[0];
    writeFileSync(path, `${first}\n`, { flag: "a" });
    const fourth = await deepconf(...runArgs(out, "--limit", "3", "--json"));
    expect(fourth.code).toBe(0);
    expect(fourth.stderr).toMatch(/dropped 1 duplicate line/);
    expect(fourth.stderr).toMatch(/resuming: 3 of 3/);
    expect(JSON.parse(fourth.stdout).n).toBe(3);
  });

  test("a killed run loses nothing already written and resumes to the end", async () => {
    const out = testTempDir("runs-");
    const args = runArgs(out, "--limit", "6", "--max-new-tokens", "40");
    const child = spawn("node", ["--import", "tsx", "src/cli/main.ts", ...args], {
      stdio: "ignore",
    });
    const predictions = () => {
      const dirs = existsSync(out) ? readdirSync(out).filter((n) => n !== "cache") : [];
      const file = dirs[0] ? join(out, dirs[0], "predictions.jsonl") : "";
      return file && existsSync(file)
        ? readFileSync(file, "utf8").split("\n").filter(Boolean).length
        : 0;
    };
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (predictions() >= 1) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolve();
        } else if (Date.now() - started > 60_000) {
          clearInterval(timer);
          child.kill("SIGKILL");
          reject(new Error("no prediction within 60 s"));
        }
      }, 50);
    });
    await new Promise((resolve) => child.once("exit", resolve));
    const before = lines(runDir(out));
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.length).toBeLessThan(6);
    // What the kill left is readable: every line has its record; at most one record (written,
    // its line not yet) has no line.
    const killed = await readConfidences(join(runDir(out), CONFIDENCES));
    const killedJoin = joinConfidences(before, killed);
    expect(killedJoin).toMatchObject({ missing: [], mismatched: [] });
    expect(killedJoin.orphans.length).toBeLessThanOrEqual(1);
    const resumed = await deepconf(...args);
    expect(resumed.code).toBe(0);
    const after = lines(runDir(out));
    expect(after.map((p) => p.instance_id)).toEqual(
      expect.arrayContaining(before.map((p) => p.instance_id)),
    );
    expect(new Set(after.map((p) => p.instance_id)).size).toBe(6);
    expect(after.slice(0, before.length)).toEqual(before);
    // Each record reached the disk before its line, and the resume cut off the one that had no
    // line (if the kill fell between the two): one readable record per instance.
    const sidecar = await readConfidences(join(runDir(out), CONFIDENCES));
    expect(sidecar).toMatchObject({ records: 6, duplicates: 0, torn: false });
    expect(joinConfidences(after, sidecar)).toMatchObject({ missing: [], mismatched: [] });
  }, 120_000);

  test("baseline and offline measure their own baseline; --measure-baseline measures Cons@B", async () => {
    for (const method of ["baseline", "offline"]) {
      const out = testTempDir("runs-");
      expect((await deepconf(...runArgs(out, "--limit", "2", "--method", method))).code).toBe(0);
      for (const p of lines(runDir(out))) {
        expect(p.tokens.baseline_kind).toBe("measured");
        expect(p.tokens.generated).toBe(p.tokens.baseline);
        expect(p.traces).toHaveLength(5);
      }
    }
    const out = testTempDir("runs-");
    expect((await deepconf(...runArgs(out, "--limit", "2", "--measure-baseline"))).code).toBe(0);
    for (const p of lines(runDir(out))) {
      expect(p.tokens.baseline_kind).toBe("measured");
      expect(p.tokens.baseline).toBeGreaterThanOrEqual(p.tokens.generated);
    }
  });

  test("rescore re-judges stored traces without a model and keeps the old file", async () => {
    const out = testTempDir("runs-");
    expect((await deepconf(...runArgs(out, "--limit", "3"))).code).toBe(0);
    const dir = runDir(out);
    // Call every answer a refusal: an extra pattern that matches any text.
    const config = join(out, "patterns.yaml");
    writeFileSync(config, 'refusal:\n  extraRefusal: ["[\\\\s\\\\S]"]\n');
    const result = await deepconf("rescore", dir, "--config", config, "--json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.n).toBe(3);
    expect(existsSync(report.backup)).toBe(true);
    for (const p of lines(dir)) {
      expect(p.refused).toBe(true);
      expect(p.abstained).toBe(false);
      expect(p.correct).toBe(p.should_refuse);
      expect(p.refusal_rate).toBe(1);
    }
  });

  test.each([
    [["--method", "greedy"], /--method/],
    [["--benchmark", "nosuchbench"], /nosuchbench/],
    [["--model", "/nonexistent/model"], /does not exist/],
  ])("bad input %j: exit 2, clear message", async (flags, message) => {
    const out = testTempDir("runs-");
    const args = runArgs(out, "--limit", "1");
    const index = args.indexOf(flags[0] as string);
    if (index >= 0) args.splice(index, 2);
    const run = await deepconf(...args, ...(flags as string[]));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  test("without --model: the built-in test model, clearly labelled as random weights", async () => {
    const out = testTempDir("runs-");
    const run = await deepconf(
      "run",
      "--out",
      out,
      "--cache-dir",
      join(out, "cache"),
      "--limit",
      "2",
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/RANDOM WEIGHTS/);
    expect(run.stdout).toMatch(/abstained \(no answer\): \d+ \(\d+\.\d%\), scored as: exclude/);
    expect(run.stdout).toMatch(/--model onnx-community\/Qwen3-0\.6B-ONNX/);
  }, 60_000);

  test("the default DeepConf-low run stops traces early and measures its savings", async () => {
    const out = testTempDir("runs-");
    const run = await deepconf("run", "--out", out, "--cache-dir", join(out, "cache"), "--json");
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.n).toBe(48);
    expect(summary.stopped_traces).toBeGreaterThan(0);
    expect(summary.early_stop_rate).toBeGreaterThan(0);
    // The built-in model measures Cons@B by default: savings against a measured baseline.
    expect(summary.tokens.baseline_kind).toBe("measured");
    expect(summary.tokens.savings).toBeGreaterThan(0);
    expect(summary.tokens.generated).toBeLessThan(summary.tokens.baseline);
  }, 180_000);
});

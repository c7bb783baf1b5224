/**
 * `deepconf analyze` / `deepconf compare` on hand-built run directories. Run A's ten instances
 * have confidences 1..10, so its threshold (50th percentile, numpy linear) is 5.5 and every
 * metric can be checked by hand; test values marked scipy come from scipy 1.17.1
 * (stats.fisher_exact, stats.ttest_ind(equal_var=False), stats.mannwhitneyu(method="asymptotic")).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { BUCKETS } from "../../src/analysis/analyze.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import { deepconf } from "../support/cli.js";
import { testTempDir } from "../support/tiny-model.js";

interface Spec {
  id: string;
  should: boolean;
  /** null: an abstention (no answer). */
  refused: boolean | null;
  conf: number | null;
  generated?: number;
  baseline?: number;
  kind?: "measured" | "upper_bound";
  ms?: number;
}

/**
 * A predictions line. Answered instances are written in the old shape, without `abstained`
 * (run directories from before abstentions were recorded must still load); abstentions in the
 * new one (`refused` and `correct` null, `abstained` true).
 */
function record(
  spec: Spec,
  model: string,
  benchmark: string,
  method: string,
): Omit<PredictionRecord, "abstained"> & { abstained?: boolean } {
  return {
    instance_id: spec.id,
    benchmark,
    model,
    method,
    prompt: `prompt ${spec.id}`,
    should_refuse: spec.should,
    refused: spec.refused,
    ...(spec.refused === null ? { abstained: true } : {}),
    refusal_rate: spec.refused ? 1 : 0,
    confidence: spec.conf,
    // Deliberately wrong: analyze must recompute buckets with the final threshold.
    bucket: "confident_refusal",
    correct: spec.refused === null ? null : spec.should === spec.refused,
    tokens: {
      generated: spec.generated ?? 10,
      baseline: spec.baseline ?? 40,
      baseline_kind: spec.kind ?? "measured",
    },
    traces: [],
    threshold: 0,
    stop_threshold: null,
    seed: 0,
    elapsed_ms: spec.ms ?? 100,
  };
}

function writeRun(
  root: string,
  name: string,
  opts: {
    model: string;
    benchmark: string;
    method: string;
    instances: number;
    bucketPercentile?: number;
    abstainAs?: string;
    specs: Spec[];
    partialLine?: boolean;
    /** Extra raw lines appended (e.g. duplicates). */
    extraLines?: string[];
  },
): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const manifest = {
    run_id: name,
    created_at: "2025-01-01T00:00:00.000Z",
    config: {
      model: opts.model,
      benchmark: opts.benchmark,
      method: opts.method,
      params: {
        bucketPercentile: opts.bucketPercentile ?? 50,
        ...(opts.abstainAs === undefined ? {} : { abstainAs: opts.abstainAs }),
      },
    },
    dataset: { spec: opts.benchmark, instances: opts.instances },
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  const lines = opts.specs.map(
    (s) => `${JSON.stringify(record(s, opts.model, opts.benchmark, opts.method))}\n`,
  );
  writeFileSync(
    join(dir, "predictions.jsonl"),
    lines.join("") +
      (opts.extraLines ?? []).map((l) => `${l}\n`).join("") +
      (opts.partialLine ? '{"instance_id": "cut' : ""),
  );
  return dir;
}

// Run A: TP 3, FP 1, TN 4, FN 2; threshold 5.5.
// confident (conf >= 5.5): refusal {1, 2} both right; compliance {3, 4, 5} all right.
// uncertain: compliance {6 wrong, 7 wrong, 8 right}; refusal {9 wrong, 10 right}.
const RUN_A: Spec[] = [
  { id: "1", should: true, refused: true, conf: 10 },
  { id: "2", should: true, refused: true, conf: 9 },
  { id: "3", should: false, refused: false, conf: 8 },
  { id: "4", should: false, refused: false, conf: 7 },
  { id: "5", should: false, refused: false, conf: 6 },
  { id: "6", should: true, refused: false, conf: 5 },
  { id: "7", should: true, refused: false, conf: 4 },
  { id: "8", should: false, refused: false, conf: 3 },
  { id: "9", should: false, refused: true, conf: 2 },
  { id: "10", should: true, refused: true, conf: 1 },
];

function fixtures() {
  const root = testTempDir("analysis-");
  const a = writeRun(root, "run-a", {
    model: "m1",
    benchmark: "bench",
    method: "deepconf-low",
    instances: 10,
    specs: RUN_A,
    partialLine: true,
  });
  // One instance, no confidence, upper-bound baseline, 1 of 3 done.
  const b = writeRun(root, "run-b", {
    model: "m1",
    benchmark: "tiny",
    method: "deepconf-low",
    instances: 3,
    specs: [
      { id: "x", should: true, refused: true, conf: null, kind: "upper_bound", baseline: 80 },
    ],
  });
  // Another model on the same benchmark: TP 1, TN 2, FP 1.
  const c = writeRun(root, "run-c", {
    model: "m2",
    benchmark: "bench",
    method: "deepconf-low",
    instances: 4,
    bucketPercentile: 25,
    specs: [
      { id: "1", should: true, refused: true, conf: 0.9, generated: 20, ms: 50 },
      { id: "2", should: false, refused: false, conf: 0.8, generated: 20, ms: 50 },
      { id: "3", should: false, refused: false, conf: 0.7, generated: 20, ms: 50 },
      { id: "4", should: false, refused: true, conf: 0.6, generated: 20, ms: 50 },
    ],
  });
  return { root, a, b, c };
}

const close = (actual: unknown, expected: number, digits = 12) => {
  expect(typeof actual).toBe("number");
  expect(actual as number).toBeCloseTo(expected, digits);
};

describe("deepconf analyze", () => {
  test("one run: metrics, buckets, hypothesis, confidence tests, tokens (hand and scipy)", async () => {
    const { a } = fixtures();
    const before = readFileSync(join(a, "predictions.jsonl"), "utf8");
    const run = await deepconf("analyze", a, "--json");
    expect(run.code).toBe(0);
    // Read-only: the half-written last line is skipped, not cut from the file.
    expect(readFileSync(join(a, "predictions.jsonl"), "utf8")).toBe(before);
    const out = JSON.parse(run.stdout);
    expect(Object.keys(out)).toEqual(
      expect.arrayContaining([
        "runs",
        "n",
        "metrics",
        "buckets",
        "hypothesis",
        "confidence_by_correctness",
        "tokens",
        "warnings",
        "groups",
      ]),
    );
    expect(out.n).toBe(10);
    expect(out.abstentions).toEqual({ n: 0, rate: 0 });
    expect(out.scored).toBe(10);
    expect(out.runs[0]).toMatchObject({ run_id: "run-a", n: 10, total: 10, complete: true });
    close(out.runs[0].threshold, 5.5, 15);
    expect(Object.keys(out.metrics)).toEqual([
      "accuracy",
      "precision",
      "recall",
      "f1",
      "specificity",
    ]);
    // Wilson by the numpy formula.
    close(out.metrics.accuracy.value, 0.7, 15);
    close(out.metrics.accuracy.ci95[0], 0.39677814746114537, 14);
    close(out.metrics.accuracy.ci95[1], 0.8922087325936989, 14);
    close(out.metrics.precision.value, 0.75, 15);
    close(out.metrics.precision.ci95[0], 0.30064184258240184, 14);
    close(out.metrics.recall.value, 0.6, 15);
    close(out.metrics.recall.ci95[1], 0.882379225767352, 14);
    close(out.metrics.specificity.value, 0.8, 15);
    close(out.metrics.specificity.ci95[0], 0.37553462976252533, 14);
    close(out.metrics.f1.value, 2 / 3, 15);
    const [f1lo, f1hi] = out.metrics.f1.ci95;
    expect(f1lo).toBeLessThan(2 / 3);
    expect(f1hi).toBeGreaterThan(2 / 3);
    expect(f1hi).toBeLessThanOrEqual(1);

    expect(out.buckets.confident_refusal).toMatchObject({ n: 2, correct: 2, accuracy: 1 });
    expect(out.buckets.confident_compliance).toMatchObject({ n: 3, correct: 3, accuracy: 1 });
    expect(out.buckets.uncertain_refusal).toMatchObject({ n: 2, correct: 1, accuracy: 0.5 });
    expect(out.buckets.uncertain_compliance).toMatchObject({ n: 3, correct: 1, share: 0.3 });
    close(out.buckets.uncertain_compliance.ci95[0], 0.06149194472039621, 14);

    const h = out.hypothesis;
    expect(h.uncertain_compliance).toEqual({ n: 3, accuracy: 1 / 3 });
    expect(h.confident_compliance).toEqual({ n: 3, accuracy: 1 });
    close(h.gap, 2 / 3, 15);
    expect(h.gap_ci95[0]).toBeGreaterThanOrEqual(0);
    expect(h.gap_ci95[1]).toBe(1);
    close(h.p_value, 0.4000000000000001); // stats.fisher_exact([[3, 0], [1, 2]])
    close(h.cohens_h, 1.9106332362490186, 14); // 2 asin(1) - 2 asin(sqrt(1/3))

    // correct [10, 9, 8, 7, 6, 3, 1] vs incorrect [5, 4, 2]
    const c = out.confidence_by_correctness;
    close(c.t, 1.731478512556536); // stats.ttest_ind(..., equal_var=False)
    close(c.p_value, 0.12323297193073374);
    close(c.df, 7.669131189713036);
    close(c.cohens_d, 0.8976975024254026); // pooled SD, numpy
    close(c.mannwhitney_p, 0.2544505826463366); // stats.mannwhitneyu(method="asymptotic")
    expect(c.mannwhitney_u).toBe(16);

    expect(out.tokens).toMatchObject({
      generated: 100,
      baseline: 400,
      baseline_kind: "measured",
      savings: 0.75,
      savings_ci95: [0.75, 0.75],
    });
    expect(out.tokens.by_method).toHaveLength(1);
    expect(out.groups).toHaveLength(1);
    expect(out.groups[0]).toMatchObject({ benchmark: "bench", method: "deepconf-low", n: 10 });
    expect(out.bootstrap).toEqual({ resamples: 2000, seed: 0 });
    expect(out.warnings).toContain(
      "benchmark bench, method deepconf-low: only 10 instances (fewer than 30): intervals are wide and the tests have little power",
    );
  });

  test("several runs: groups, a single-instance group with nulls, warnings; --out", async () => {
    const { root, a, b, c } = fixtures();
    const outDir = join(root, "analysis");
    const run = await deepconf("analyze", a, b, c, "--json", "--out", outDir, "--resamples", "200");
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("NaN");
    const out = JSON.parse(run.stdout);
    expect(JSON.parse(readFileSync(join(outDir, "analysis.json"), "utf8"))).toEqual(out);
    expect(out.n).toBe(15);
    expect(out.groups.map((g: { benchmark: string }) => g.benchmark)).toEqual(["bench", "tiny"]);
    const tiny = out.groups[1];
    expect(tiny.n).toBe(1);
    expect(tiny.metrics.accuracy.value).toBe(1);
    close(tiny.metrics.accuracy.ci95[0], 0.20654931437723745, 14);
    expect(tiny.metrics.f1).toMatchObject({ value: 1, ci95: [1, 1] });
    expect(tiny.metrics.specificity).toEqual({ value: null, ci95: null, n: 0 });
    expect(tiny.unbucketed).toBe(1);
    expect(tiny.buckets.uncertain_compliance).toEqual({
      n: 0,
      share: 0,
      correct: 0,
      accuracy: null,
      ci95: null,
    });
    expect(tiny.hypothesis).toEqual({
      uncertain_compliance: { n: 0, accuracy: null },
      confident_compliance: { n: 0, accuracy: null },
      gap: null,
      gap_ci95: null,
      p_value: null,
      cohens_h: null,
    });
    expect(tiny.confidence_by_correctness).toMatchObject({
      t: null,
      p_value: null,
      cohens_d: null,
      mannwhitney_p: null,
    });
    expect(tiny.tokens).toMatchObject({ baseline_kind: "upper_bound", savings: 0.875 });
    // Run C's threshold is its own 25th percentile (0.675), not run A's.
    const bench = out.groups[0];
    expect(bench.n).toBe(14);
    expect(bench.models).toEqual(["m1", "m2"]);
    expect(bench.buckets.confident_refusal.n).toBe(2 + 1);
    expect(bench.buckets.uncertain_refusal.n).toBe(2 + 1);
    expect(out.tokens.baseline_kind).toBe("mixed");
    const warnings = out.warnings.join("\n");
    expect(warnings).toContain("run run-b is incomplete: 1 of 3 instances");
    expect(warnings).toContain("run run-b: the token baseline is only an upper bound");
    expect(warnings).toContain("benchmark tiny, method deepconf-low: only 1 instance (fewer");
    expect(warnings).toContain(
      "benchmark tiny, method deepconf-low: no uncertain compliance instance, so the hypothesis cannot be tested",
    );
    expect(warnings).toContain("1 instance without a confidence (no trace voted) is in no bucket");
    expect(warnings).toContain(
      "benchmark bench, method deepconf-low: merges runs with different bucket percentiles (50, 25)",
    );
  });

  test("readable tables without --json", async () => {
    const { a, b } = fixtures();
    const run = await deepconf("analyze", a, b, "--resamples", "100");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("== overall (n = 11)");
    expect(run.stdout).toContain("== benchmark tiny, method deepconf-low (n = 1)");
    expect(run.stdout).toMatch(/accuracy[\s│]+70\.0%[\s│]+\[39\.7%, 89\.2%\]/);
    expect(run.stdout).toContain("Fisher p 0.4000");
    expect(run.stdout).toContain("warnings:");
    expect(run.stdout).not.toContain("NaN");
  });

  test("a directory without manifest.json is exit 2 with a clear message", async () => {
    const root = testTempDir("analysis-");
    const run = await deepconf("analyze", root, "--json");
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`${root} is not a run directory (no manifest.json)`);
    const compare = await deepconf("compare", join(root, "missing"));
    expect(compare.code).toBe(2);
  });

  test("a damaged predictions line is exit 2 naming file and line", async () => {
    const { a } = fixtures();
    const first = '{"instance_id": "1", "refused": true, "should_refuse": true}';
    writeFileSync(join(a, "predictions.jsonl"), `${first}\nnope\n`);
    const run = await deepconf("analyze", a);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("predictions.jsonl:2: not valid JSON");
    // A line that is JSON but no prediction.
    writeFileSync(
      join(a, "predictions.jsonl"),
      `${first}\n\n{"instance_id": "2", "should_refuse": true}\n`,
    );
    const notPrediction = await deepconf("analyze", a);
    expect(notPrediction.code).toBe(2);
    expect(notPrediction.stderr).toContain(
      "predictions.jsonl:3: not a prediction: refused must be true, false or null",
    );
  });

  test("duplicate instance_id lines are dropped (the first wins) and said so", async () => {
    const duplicate = JSON.stringify(
      record({ id: "1", should: true, refused: false, conf: 10 }, "m1", "bench", "deepconf-low"),
    );
    const dir = writeRun(testTempDir("analysis-"), "run-a", {
      model: "m1",
      benchmark: "bench",
      method: "deepconf-low",
      instances: 10,
      specs: RUN_A,
      extraLines: [duplicate, duplicate],
    });
    const run = await deepconf("analyze", dir, "--json", "--resamples", "50");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.n).toBe(10);
    expect(out.runs[0].duplicates).toBe(2);
    expect(out.confusion).toEqual({ tp: 3, fp: 1, tn: 4, fn: 2 });
    expect(out.warnings).toContain(
      "run run-a: dropped 2 duplicate lines (an instance_id seen on an earlier line; the first is kept)",
    );
    const text = await deepconf("analyze", dir, "--resamples", "50");
    expect(text.stdout).toContain("dropped 2 duplicate lines");
    const compare = await deepconf("compare", dir);
    expect(compare.stdout).toContain("run run-a: dropped 2 duplicate lines");
  });
});

describe("deepconf compare", () => {
  test("rows per model x benchmark x method, ranks with ties, best lines, CSV", async () => {
    const { root, a, b, c } = fixtures();
    const csv = join(root, "out", "compare.csv");
    const run = await deepconf("compare", a, b, c, "--json", "--csv", csv);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.rows).toHaveLength(3);
    const [m1bench, m1tiny, m2bench] = out.rows;
    expect(m1bench).toMatchObject({ model: "m1", benchmark: "bench", n: 10, accuracy: 0.7 });
    close(m1bench.f1, 2 / 3, 15);
    expect(m1bench).toMatchObject({ precision: 0.75, recall: 0.6, over_refusal: 0.2 });
    expect(m1bench).toMatchObject({ tokens_per_instance: 10, ms_per_instance: 100 });
    expect(m2bench).toMatchObject({ model: "m2", accuracy: 0.75, precision: 0.5, recall: 1 });
    close(m2bench.f1, 2 / 3, 15);
    close(m2bench.over_refusal, 1 / 3, 15);
    // Ranks within the benchmark; F1 is a tie.
    expect(m2bench.ranks).toMatchObject({
      accuracy: 1,
      f1: 1,
      over_refusal: 2,
      tokens_per_instance: 2,
      ms_per_instance: 1,
    });
    expect(m1bench.ranks).toMatchObject({
      accuracy: 2,
      f1: 1,
      over_refusal: 1,
      tokens_per_instance: 1,
    });
    expect(m1tiny).toMatchObject({ benchmark: "tiny", over_refusal: null });
    expect(m1tiny.ranks.over_refusal).toBeNull();
    const bestF1 = out.best.find(
      (l: { benchmark: string; metric: string }) => l.benchmark === "bench" && l.metric === "f1",
    );
    expect(bestF1.best).toEqual(["m1 [deepconf-low]", "m2 [deepconf-low]"]);

    const lines = readFileSync(csv, "utf8").trim().split("\n");
    expect(lines[0]).toBe(
      "model,benchmark,method,n,abstained,abstention_rate,accuracy,f1,precision,recall,over_refusal,tokens_per_instance,ms_per_instance," +
        "rank_accuracy,rank_f1,rank_precision,rank_recall,rank_over_refusal,rank_tokens_per_instance,rank_ms_per_instance",
    );
    expect(lines[2]).toBe("m1,tiny,deepconf-low,1,0,0,1,1,1,1,,10,100,1,1,1,1,,1,1");

    const text = await deepconf("compare", a, c);
    expect(text.stdout).toContain("bench: best accuracy: m2 [deepconf-low] (75.0%)");
    expect(text.stdout).toContain(
      "bench: best over-refusal: m1 [deepconf-low] (20.0%, lower is better)",
    );
  });
});

// Run "abs": 4 answered (TP 1, TN 1, FN 1, FP 1; confidences 4..1, threshold 2.5) and 3
// abstentions (refused null): two harmful prompts, one benign. Scored as compliances (what the
// old `refused = answer === "refusal"` did) they would be 2 more false negatives.
const ANSWERED: Spec[] = [
  { id: "1", should: true, refused: true, conf: 4 },
  { id: "2", should: false, refused: false, conf: 3 },
  { id: "3", should: true, refused: false, conf: 2 },
  { id: "4", should: false, refused: true, conf: 1 },
];
const ABSTAINED: Spec[] = [
  { id: "5", should: true, refused: null, conf: null },
  { id: "6", should: true, refused: null, conf: null },
  { id: "7", should: false, refused: null, conf: null },
];

function abstentionRun(opts: { abstainAs?: string; specs?: Spec[] } = {}) {
  return writeRun(testTempDir("abstain-"), "abs", {
    model: "m1",
    benchmark: "bench",
    method: "deepconf-low",
    instances: 7,
    abstainAs: opts.abstainAs,
    specs: opts.specs ?? [...ANSWERED, ...ABSTAINED],
  });
}

const analyzeJson = async (...args: string[]) => {
  const run = await deepconf("analyze", ...args, "--json", "--resamples", "50");
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
};

describe("abstentions (instances without an answer)", () => {
  test("old-shape lines (no abstained field) load; refused null is an abstention, left out by default", async () => {
    const dir = abstentionRun();
    const text = readFileSync(join(dir, "predictions.jsonl"), "utf8").split("\n");
    expect(text[0]).not.toContain("abstained"); // the old shape
    expect(text[4]).toContain('"refused":null');
    const out = await analyzeJson(dir);
    expect(out.n).toBe(7);
    expect(out.abstentions).toEqual({ n: 3, rate: 3 / 7 });
    expect(out.scored).toBe(4);
    expect(out.abstain_as).toBe("exclude");
    expect(out.confusion).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1 });
    expect(out.metrics.accuracy).toMatchObject({ value: 0.5, n: 4 });
    expect(out.metrics.recall).toMatchObject({ value: 0.5, n: 2 });
    expect(out.unbucketed).toBe(0);
    expect(out.buckets.confident_refusal).toMatchObject({ n: 1, correct: 1, share: 0.25 });
    expect(out.buckets.uncertain_compliance).toMatchObject({ n: 1, correct: 0 });
    expect(out.hypothesis.confident_compliance).toEqual({ n: 1, accuracy: 1 });
    expect(out.confidence_by_correctness).toMatchObject({ n_correct: 2, n_incorrect: 2 });
    // Tokens count every instance: the abstentions' traces were generated too.
    expect(out.tokens).toMatchObject({ n: 7, generated: 70 });
    const [group] = out.groups;
    expect(group).toMatchObject({ n: 7, abstentions: { n: 3, rate: 3 / 7 }, scored: 4 });
    expect(out.runs[0]).toMatchObject({ abstentions: { n: 3 }, abstain_as: "exclude" });
    expect(out.warnings).toContain(
      "benchmark bench, method deepconf-low: 3 of 7 instances abstained (no answer); metrics are over the 4 answered; --abstain-as refusal|compliance folds them in",
    );
    const text2 = await deepconf("analyze", dir, "--resamples", "50");
    expect(text2.stdout).toContain(
      "== benchmark bench, method deepconf-low (n = 7; abstained 3 (42.9%); metrics over 4)",
    );
  });

  test("the run's recorded abstainAs moves the confusion matrix the right way (refusal = positive)", async () => {
    const refusal = await analyzeJson(abstentionRun({ abstainAs: "refusal" }));
    expect(refusal.abstain_as).toBe("refusal");
    // Two harmful abstentions become true positives, the benign one a false positive.
    expect(refusal.confusion).toEqual({ tp: 3, fp: 2, tn: 1, fn: 1 });
    expect(refusal.scored).toBe(7);
    expect(refusal.abstentions).toEqual({ n: 3, rate: 3 / 7 });
    close(refusal.metrics.accuracy.value, 4 / 7, 15);
    close(refusal.metrics.recall.value, 3 / 4, 15);
    close(refusal.metrics.specificity.value, 1 / 3, 15);
    // No confidence: the folded-in abstentions are in no bucket.
    expect(refusal.unbucketed).toBe(3);
    expect(refusal.warnings.join("\n")).toContain(
      "3 of 7 instances abstained (no answer): scored as refusals (--abstain-as refusal); metrics are over all 7",
    );
    const compliance = await analyzeJson(abstentionRun({ abstainAs: "compliance" }));
    // Two harmful abstentions become false negatives, the benign one a true negative.
    expect(compliance.confusion).toEqual({ tp: 1, fp: 1, tn: 2, fn: 3 });
    close(compliance.metrics.accuracy.value, 3 / 7, 15);
    close(compliance.metrics.recall.value, 1 / 4, 15);
    close(compliance.metrics.specificity.value, 2 / 3, 15);
    // Runs that score abstentions differently are merged with a warning.
    const both = await analyzeJson(
      abstentionRun({ abstainAs: "refusal" }),
      abstentionRun({ abstainAs: "compliance" }),
    );
    expect(both.abstain_as).toBe("mixed");
    expect(both.warnings.join("\n")).toContain(
      "merges runs that score abstentions differently (refusal, compliance)",
    );
  });

  test("--abstain-as overrides the recorded setting; each choice moves the matrix", async () => {
    const dir = abstentionRun({ abstainAs: "refusal" });
    const recorded = await analyzeJson(dir);
    expect(recorded.confusion).toEqual({ tp: 3, fp: 2, tn: 1, fn: 1 });
    const exclude = await analyzeJson(dir, "--abstain-as", "exclude");
    expect(exclude.abstain_as).toBe("exclude");
    expect(exclude.runs[0].abstain_as).toBe("exclude");
    expect(exclude.confusion).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1 });
    const compliance = await analyzeJson(dir, "--abstain-as", "compliance");
    expect(compliance.confusion).toEqual({ tp: 1, fp: 1, tn: 2, fn: 3 });
    const refusal = await analyzeJson(abstentionRun(), "--abstain-as", "refusal");
    expect(refusal.confusion).toEqual({ tp: 3, fp: 2, tn: 1, fn: 1 });
    // The flag scores merged runs alike: no "scores differently" warning.
    const both = await analyzeJson(
      abstentionRun({ abstainAs: "refusal" }),
      abstentionRun({ abstainAs: "compliance" }),
      "--abstain-as",
      "exclude",
    );
    expect(both.abstain_as).toBe("exclude");
    expect(both.warnings.join("\n")).not.toContain("score abstentions differently");
    const bad = await deepconf("analyze", dir, "--abstain-as", "maybe");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--abstain-as");
  });

  test("buckets and the hypothesis test leave excluded abstentions out even with a confidence", async () => {
    // Real runs give an abstention no confidence; analyze must not rely on it.
    // Confidences [4, 3, 2, 1, 10]: threshold 3; the abstention (10) would be confident.
    const specs = [...ANSWERED, { id: "5", should: true, refused: null, conf: 10 }];
    const exclude = await analyzeJson(abstentionRun({ specs }));
    expect(exclude.buckets.confident_compliance).toMatchObject({ n: 1, correct: 1 });
    expect(exclude.hypothesis.confident_compliance).toEqual({ n: 1, accuracy: 1 });
    const total = BUCKETS.reduce((s, b) => s + exclude.buckets[b].n, 0);
    expect(total).toBe(4);
    const c = exclude.confidence_by_correctness;
    expect(c.n_correct + c.n_incorrect).toBe(4);
    // Folded in as a compliance of a harmful prompt: a wrong confident compliance.
    const compliance = await analyzeJson(abstentionRun({ specs, abstainAs: "compliance" }));
    expect(compliance.buckets.confident_compliance).toMatchObject({ n: 2, correct: 1 });
    expect(compliance.hypothesis.confident_compliance).toEqual({ n: 2, accuracy: 0.5 });
  });

  test("compare counts abstentions per row; metrics over the scored instances", async () => {
    const dir = abstentionRun();
    const run = await deepconf("compare", dir, "--json");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.rows[0]).toMatchObject({
      n: 7,
      abstentions: { n: 3, rate: 3 / 7 },
      scored: 4,
      accuracy: 0.5,
      recall: 0.5,
      over_refusal: 0.5,
      tokens_per_instance: 10,
    });
    expect(out.warnings).toContain(
      "m1 [deepconf-low] on bench: 3 of 7 instances abstained (no answer); metrics are over the 4 answered; --abstain-as refusal|compliance folds them in",
    );
    const folded = await deepconf("compare", abstentionRun({ abstainAs: "compliance" }), "--json");
    const row = JSON.parse(folded.stdout).rows[0];
    expect(row).toMatchObject({ scored: 7, recall: 0.25 });
    close(row.accuracy, 3 / 7, 15);
    const flagged = await deepconf("compare", dir, "--json", "--abstain-as", "refusal");
    const refusalRow = JSON.parse(flagged.stdout).rows[0];
    expect(refusalRow).toMatchObject({ scored: 7, recall: 0.75 });
    close(refusalRow.over_refusal, 2 / 3, 15);
    const csv = join(testTempDir("abstain-"), "compare.csv");
    const text = await deepconf("compare", dir, "--csv", csv);
    expect(text.stdout).toContain("3 (42.9%)");
    expect(text.stdout).toContain("warnings:");
    expect(readFileSync(csv, "utf8").split("\n")[1]).toMatch(/^m1,bench,deepconf-low,7,3,0\.42857/);
  });
});

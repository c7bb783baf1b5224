/**
 * `deepconf figures` and `deepconf report` on hand-built run directories: run "a" has all its
 * refusals above the confidence threshold (so its uncertain-refusal bucket is empty), run "b" is
 * a model with a single instance, run "c" has no predictions yet; plus a scaling CSV with a single
 * point and a constant benchmark.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { renderFigures, runFigures, scalingFigures } from "../../src/analysis/figures/index.js";
import { loadRun } from "../../src/analysis/load.js";
import { analyzeScaling, parseResultsCsv } from "../../src/analysis/scaling/index.js";
import { deepconf, tempFile } from "../support/cli.js";
import { testTempDir } from "../support/tiny-model.js";

interface Spec {
  should: boolean;
  /** null: an abstention (no answer). */
  refused: boolean | null;
  conf: number | null;
}

function writeRun(root: string, name: string, model: string, method: string, specs: Spec[]) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const manifest = {
    run_id: name,
    created_at: "2025-01-02T03:04:05.000Z",
    config: { model, benchmark: "toy", method, params: { bucketPercentile: 50 } },
    dataset: { spec: "toy", source: { revision: "rev123" }, instances: specs.length },
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  const lines = specs.map((s, i) =>
    JSON.stringify({
      instance_id: `${name}-${i}`,
      benchmark: "toy",
      model,
      method,
      prompt: `prompt ${i}`,
      should_refuse: s.should,
      refused: s.refused,
      abstained: s.refused === null,
      refusal_rate: s.refused ? 1 : 0,
      confidence: s.conf,
      bucket: null,
      correct: s.refused === null ? null : s.should === s.refused,
      tokens: { generated: 100 + 10 * i, baseline: 400, baseline_kind: "measured" },
      traces: [],
      threshold: 0,
      stop_threshold: null,
      seed: 0,
      elapsed_ms: 50,
    }),
  );
  writeFileSync(join(dir, "predictions.jsonl"), lines.map((l) => `${l}\n`).join(""));
  return dir;
}

function fixture() {
  const root = testTempDir("figures-");
  // Confidences 1..12: threshold 6.5; refusals (7..12) are all confident.
  const a: Spec[] = [];
  for (let c = 1; c <= 12; c++) {
    const refused = c > 6;
    a.push({ should: c % 4 !== 0 ? refused : !refused, refused, conf: c });
  }
  a.push({ should: true, refused: false, conf: null });
  return {
    root,
    a: writeRun(root, "a", "Qwen3-0.6B", "deepconf-online", a),
    b: writeRun(root, "b", "Qwen3-1.7B", "deepconf-online", [
      { should: true, refused: true, conf: 3 },
    ]),
    c: writeRun(root, "c", "Qwen3-4B", "baseline", []),
  };
}

const RUN_FIGURES = [
  "confidence-by-outcome",
  "token-savings",
  "hypothesis-validation",
  "metrics-by-model",
  "confidence-by-model",
  "summary",
];

const SCALING_FIGURES = [
  "scaling-baseline",
  "scaling-saturation",
  "scaling-gain-heatmap",
  "scaling-quadrants",
  "scaling-coverage",
];

const SCALING_CSV = `Technique,Source paper,Model,Scale,Benchmark,Performance
Baseline,,Llama,1B,HarmBench,40
Baseline,,Llama,7B,HarmBench,55
Baseline,,Llama,70B,HarmBench,80
Baseline,,Llama,1B,Flat,50
Baseline,,Llama,7B,Flat,50
Baseline,,Llama,7B,Single,20
Baseline,,Llama,1B,BIO,60
Baseline,,Llama,70B,BIO,30
RLHF,Smith 2023,Llama,1B,HarmBench,45
RLHF,Smith 2023,Llama,7B,HarmBench,62
RLHF,Smith 2023,Llama,70B,HarmBench,95
RLHF,Smith 2023,Llama,7B,Single,25
RLHF,Smith 2023,Llama,1B,BIO,50
RLHF,Smith 2023,Llama,70B,BIO,20
`;

async function expectPng(path: string) {
  const meta = await sharp(path).metadata();
  expect(meta.format).toBe("png");
  expect(meta.width).toBeGreaterThan(0);
  expect(meta.height).toBeGreaterThan(0);
}

describe("deepconf figures", () => {
  test("writes PNG + SVG for every run figure, with the axis titles, into <first run>/figures", async () => {
    const { a, b, c } = fixture();
    const run = await deepconf("figures", a, b, c, "--resamples", "50", "--no-scaling");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = join(a, "figures");
    expect(run.stdout).toContain(`into ${out}`);
    expect(run.stdout).toContain("uncertain refusal");
    expect(readdirSync(out).sort()).toEqual(
      RUN_FIGURES.flatMap((f) => [`${f}.png`, `${f}.svg`]).sort(),
    );
    for (const f of RUN_FIGURES) await expectPng(join(out, `${f}.png`));
    const svg = (name: string) => readFileSync(join(out, `${name}.svg`), "utf8");
    expect(svg("confidence-by-outcome")).toContain(
      "Instance confidence (mean lowest group confidence)",
    );
    expect(svg("confidence-by-outcome")).toContain("should refuse: incorrectly allowed");
    expect(svg("token-savings")).toContain("Tokens per instance");
    expect(svg("hypothesis-validation")).toContain("Accuracy (95% Wilson CI)");
    expect(svg("hypothesis-validation")).toContain("n=0");
    expect(svg("metrics-by-model")).toContain("Qwen3-1.7B");
    expect(svg("confidence-by-model")).toContain("Instance confidence");
  });

  test("the specs compile and render without a Vega warning, with empty buckets and one instance", async () => {
    const { a, b, c } = fixture();
    const runs = [await loadRun(a), await loadRun(b), await loadRun(c)];
    const rendered = await renderFigures(runFigures(runs, { resamples: 50 }));
    for (const f of rendered) {
      expect(f.warnings, f.name).toEqual([]);
      expect(f.svg, f.name).not.toBeNull();
    }
    const tokens = rendered.find((f) => f.name === "token-savings");
    expect(tokens?.notes).toContain("deepconf-online: no uncertain refusal instance");
  });

  test("scaling figures from a CSV (single points, a constant benchmark) and from run directories", async () => {
    const csv = tempFile("results.csv", SCALING_CSV);
    const out = join(testTempDir(), "scaling-figures");
    const run = await deepconf("figures", "--scaling-csv", csv, "--out", out);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    for (const f of [...SCALING_FIGURES, "summary"]) {
      await expectPng(join(out, `${f}.png`));
      expect(existsSync(join(out, `${f}.svg`))).toBe(true);
    }
    expect(readFileSync(join(out, "scaling-baseline.svg"), "utf8")).toContain(
      "Model scale (billions of parameters)",
    );
    expect(readFileSync(join(out, "scaling-gain-heatmap.svg"), "utf8")).toContain("Technique");
    expect(run.stdout).toContain("Single: a single baseline point, no trend");
    expect(run.stdout).toContain("Flat: Spearman rho cannot be computed");
    const result = analyzeScaling(parseResultsCsv(SCALING_CSV, "results.csv").rows);
    for (const f of await renderFigures(scalingFigures(result))) {
      expect(f.warnings, f.name).toEqual([]);
    }

    // Run directories: models sized from their names; no baseline at the same scale -> no gains.
    const { a, b } = fixture();
    const fromRuns = await deepconf("figures", a, b, "--resamples", "50");
    expect(fromRuns.code).toBe(0);
    expect(fromRuns.stdout).toContain("not drawn: scaling-gain-heatmap");
  });

  test("a directory without a manifest, or no input at all, is exit 2", async () => {
    const empty = testTempDir("not-a-run-");
    let run = await deepconf("figures", empty);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("not a run directory");
    run = await deepconf("figures");
    expect(run.code).toBe(2);
    run = await deepconf("report", empty);
    expect(run.code).toBe(2);
  });
});

describe("deepconf report", () => {
  test("one self-contained HTML file: manifests, warnings, tables and inline figures", async () => {
    const { a, b, root } = fixture();
    const csv = tempFile("results.csv", SCALING_CSV);
    const out = join(root, "out", "report.html");
    const run = await deepconf(
      "report",
      a,
      b,
      "--scaling-csv",
      csv,
      "--out",
      out,
      "--resamples",
      "50",
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(readdirSync(join(root, "out"))).toEqual(["report.html"]);
    const html = readFileSync(out, "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<link|<script/i);
    expect(html).toContain("toy @ rev123");
    expect(html).toContain("2025-01-02");
    expect(html).toContain("Qwen3-1.7B");
    expect(html).toContain("fewer than 30"); // analyze's warnings are shown
    expect(html).toContain("<table>");
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(8);
    expect(html).toContain("Accuracy (95% Wilson CI)");
    expect(html).toContain("Model scale (billions of parameters)");
  });
});

describe("abstentions in figures and the report", () => {
  // Two answered instances and two abstentions (no answer, no confidence) on harmful prompts.
  const specs: Spec[] = [
    { should: true, refused: true, conf: 5 },
    { should: false, refused: false, conf: 4 },
    { should: true, refused: null, conf: null },
    { should: true, refused: null, conf: null },
  ];

  test("left out by default and said so; abstainAs compliance folds them in", async () => {
    const dir = writeRun(testTempDir("figures-"), "abs", "Qwen3-0.6B", "deepconf-online", specs);
    const notes = async (abstainAs?: "exclude" | "compliance") => {
      const figures = runFigures([await loadRun(dir, { abstainAs })], { resamples: 20 });
      return Object.fromEntries(figures.map((f) => [f.name, f.notes]));
    };
    const excluded = await notes();
    const leftOut =
      "2 instance(s) abstained (no answer) and are left out; --abstain-as refusal|compliance folds them in";
    expect(excluded["confidence-by-outcome"]).toContain(leftOut);
    expect(excluded["confidence-by-outcome"]).not.toContain(
      "2 instance(s) without a confidence are not drawn",
    );
    expect(excluded["confidence-by-model"]).toContain(leftOut);
    expect(excluded["hypothesis-validation"]).toContain(
      "toy · deepconf-online: 2 of 4 instance(s) abstained (no answer); accuracies are over 2",
    );
    expect(excluded["metrics-by-model"]).toContain(
      "Qwen3-0.6B, toy · deepconf-online: 2 of 4 instance(s) abstained (no answer); scores are over 2",
    );
    // Folded in as compliances they are scored (incorrectly allowed) but have no confidence.
    const folded = await notes("compliance");
    expect(folded["confidence-by-outcome"]).not.toContain(leftOut);
    expect(folded["confidence-by-outcome"]).toContain(
      "2 instance(s) without a confidence are not drawn",
    );
    expect(folded["metrics-by-model"]).toContain(
      "Qwen3-0.6B, toy · deepconf-online: 2 of 4 instance(s) abstained (no answer); scores are over 4",
    );
  });

  test("the report counts abstentions per run and per group and warns with the count", async () => {
    const root = testTempDir("figures-");
    const dir = writeRun(root, "abs", "Qwen3-0.6B", "deepconf-online", specs);
    const out = join(root, "report.html");
    const run = await deepconf("report", dir, "--out", out, "--resamples", "20", "--no-scaling");
    expect(run.code).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toContain("<td>2 (50.0%), exclude</td>");
    expect(html).toContain(
      "2 of 4 instances abstained (no answer); metrics are over the 2 answered; --abstain-as refusal|compliance folds them in",
    );
    const refusal = join(root, "refusal.html");
    const folded = await deepconf(
      "report",
      dir,
      "--out",
      refusal,
      "--resamples",
      "20",
      "--no-scaling",
      "--abstain-as",
      "refusal",
    );
    expect(folded.code).toBe(0);
    const foldedHtml = readFileSync(refusal, "utf8");
    expect(foldedHtml).toContain("<td>2 (50.0%), refusal</td>");
    expect(foldedHtml).toContain(
      "scored as refusals (--abstain-as refusal); metrics are over all 4",
    );
  });

  test("deepconf figures takes --abstain-as", async () => {
    const root = testTempDir("figures-");
    const dir = writeRun(root, "abs", "Qwen3-0.6B", "deepconf-online", specs);
    const excluded = await deepconf("figures", dir, "--resamples", "20", "--no-scaling");
    expect(excluded.code).toBe(0);
    expect(excluded.stdout).toContain("2 instance(s) abstained (no answer) and are left out");
    const folded = await deepconf(
      "figures",
      dir,
      "--resamples",
      "20",
      "--no-scaling",
      "--abstain-as",
      "compliance",
    );
    expect(folded.code).toBe(0);
    expect(folded.stdout).not.toContain("and are left out");
    expect(folded.stdout).toContain("scores are over 4");
  });
});

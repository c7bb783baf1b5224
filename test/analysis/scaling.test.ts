/**
 * `deepconf analyze scaling` and src/analysis/scaling. Reference values come from scipy 1.17.1
 * on this machine (scipy.stats.spearmanr, scipy.stats.linregress: slope and rvalue**2; the
 * notebook's sklearn LinearRegression gives the same OLS slope and R^2), each named at its use.
 * The whole-table values come from a script that mirrors the researchers' notebook
 * (seeds/000) step by step on the same CSV with the csv module, hashlib.md5 and those two calls.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  analyzeScaling,
  averageRanks,
  loadRunResults,
  parseScale,
  scaleFromModelName,
  scalingFit,
  spearman,
  techniqueId,
} from "../../src/analysis/scaling/index.js";
import { deepconf, tempFile } from "../support/cli.js";
import { testTempDir } from "../support/tiny-model.js";

const RESULTS_CSV = `Technique,Source paper,Model,Scale,Benchmark,Performance,scale_numeric
Baseline,,Llama,350M,HarmBench,40,
Baseline,,Llama,1B,HarmBench,55,
Baseline,,Llama,7B,HarmBench,50,
Baseline,,Llama,70B,HarmBench,80,
baseline,,Mistral,medium,HarmBench,65,13
Baseline,,Llama,350M,BIO,60,
Baseline,,Llama,1B,BIO,58,
Baseline,,Llama,7B,BIO,45,
Baseline,,Llama,70B,BIO,30,
Baseline,,Llama,1B,CYBER,0.6,
Baseline,,Llama,70B,CYBER,0.3,
Baseline,,Llama,1B,Flat,50,
Baseline,,Llama,7B,Flat,50,
Baseline,,Llama,70B,Flat,50,
Baseline,,Llama,7B,Single,20,
Baseline,,Llama,huge,HarmBench,33,
RLHF,"Smith et al., 2023",Llama,350M,HarmBench,45,
RLHF,"Smith et al., 2023",Llama,1B,HarmBench,62,
RLHF,"Smith et al., 2023",Llama,7B,HarmBench,60,
RLHF,"Smith et al., 2023",Llama,70B,HarmBench,95,
RLHF,"Smith et al., 2023",Llama,350M,BIO,50,
RLHF,"Smith et al., 2023",Llama,1B,BIO,50,
RLHF,"Smith et al., 2023",Llama,7B,BIO,40,
RLHF,"Smith et al., 2023",Llama,70B,BIO,28,
RLHF,"Smith et al., 2023",Llama,1B,CYBER,0.5,
RLHF,"Smith et al., 2023",Llama,70B,CYBER,0.1,
RLHF,"Smith et al., 2023",Llama,7B,Single,25,
RLHF,https://arxiv.org/abs/2222.00002,Llama,1B,HarmBench,50,
RLHF,https://arxiv.org/abs/2222.00002,Llama,70B,HarmBench,85,
RLHF,https://arxiv.org/abs/2222.00002,Mistral,medium,HarmBench,70,13
RLHF,https://arxiv.org/abs/2222.00002,Llama,1B,Flat,53,
RLHF,https://arxiv.org/abs/2222.00002,Llama,7B,Flat,53,
RLHF,https://arxiv.org/abs/2222.00002,Llama,70B,Flat,53,
Refusal-FT,https://example.org/rft,Llama,7B,HarmBench,70,
`;

// hashlib.md5(source.encode()).hexdigest()[:8]
const SMITH = "RLHF_d9335a16"; // "Smith et al., 2023"
const ARXIV = "RLHF_a136237c"; // "https://arxiv.org/abs/2222.00002"

describe("statistics against scipy", () => {
  test("average ranks are scipy.stats.rankdata's", () => {
    // stats.rankdata([3, 1, 4, 1, 5, 9]) -> [3, 1.5, 4, 1.5, 5, 6]
    expect(averageRanks([3, 1, 4, 1, 5, 9])).toEqual([3, 1.5, 4, 1.5, 5, 6]);
  });

  test("Spearman with ties, OLS slope and R^2", () => {
    const x = [1, 2, 2, 3, 5, 8];
    const y = [3, 1, 4, 1, 5, 9];
    const fit = scalingFit(x, y);
    // stats.spearmanr(x, y) -> (0.6029411764705883, 0.20518426877671472)
    expect(fit.spearman).toBeCloseTo(0.6029411764705883, 12);
    expect(fit.p_value).toBeCloseTo(0.20518426877671472, 12);
    // lr = stats.linregress(x, y); lr.slope, lr.rvalue**2 -> 0.9701492537313432, 0.7032680463851746
    expect(fit.slope).toBeCloseTo(0.9701492537313432, 12);
    expect(fit.r2).toBeCloseTo(0.7032680463851746, 12);
  });

  test("NaN cases are null: constant values, two points, one point", () => {
    // stats.spearmanr([1, 7, 70], [50, 50, 50]) -> (nan, nan); linregress: slope 0.0, rvalue nan
    expect(scalingFit([1, 7, 70], [50, 50, 50])).toEqual({
      n: 3,
      spearman: null,
      p_value: null,
      slope: 0,
      r2: null,
    });
    // stats.spearmanr([1, 70], [-5, 5]) -> (0.9999999999999999, nan): no degrees of freedom
    const two = spearman([1, 70], [-5, 5]);
    expect(two.rho).toBeCloseTo(1, 12);
    expect(two.p).toBeNull();
    // stats.spearmanr([1, 2, 3], [1, 2, 3]) -> (1.0, 0.0)
    expect(spearman([1, 2, 3], [1, 2, 3])).toEqual({ rho: 1, p: 0 });
    // all at one scale: linregress refuses ("all x values are identical")
    expect(scalingFit([7, 7], [1, 2])).toEqual({
      n: 2,
      spearman: null,
      p_value: null,
      slope: null,
      r2: null,
    });
    expect(scalingFit([7], [1])).toEqual({
      n: 1,
      spearman: null,
      p_value: null,
      slope: null,
      r2: null,
    });
  });
});

describe("scales", () => {
  test("size labels in billions", () => {
    expect(parseScale("0.6B")).toBe(0.6);
    expect(parseScale("70B")).toBe(70);
    expect(parseScale("350M")).toBeCloseTo(0.35, 15);
    expect(parseScale("1.5b")).toBe(1.5);
    expect(parseScale(" 125 m ")).toBeCloseTo(0.125, 15);
    expect(parseScale("1T")).toBe(1000);
    for (const bad of ["huge", "7", "", "B", "-7B", "0B", "7 billion"]) {
      expect(parseScale(bad), bad).toBeNull();
    }
  });

  test("sizes in model names", () => {
    expect(scaleFromModelName("onnx-community/Qwen3-0.6B-ONNX")).toEqual({
      scale: 0.6,
      label: "0.6B",
    });
    expect(scaleFromModelName("meta-llama/Llama-3.1-8B-Instruct")).toEqual({
      scale: 8,
      label: "8B",
    });
    expect(scaleFromModelName("facebook/opt-350m").scale).toBeCloseTo(0.35, 15);
    expect(scaleFromModelName("Qwen/Qwen3-30B-A3B").scale).toBe(30);
    expect(scaleFromModelName("mistralai/Mixtral-8x7B-v0.1").scale).toBeNull();
    expect(scaleFromModelName("microsoft/Phi-3-mini-4k-instruct").scale).toBeNull();
    expect(scaleFromModelName("builtin:qwen3-tiny").scale).toBeNull();
  });

  test("technique ids: name + md5 of the source, 8 hex digits", () => {
    expect(techniqueId("RLHF", "Smith et al., 2023")).toBe(SMITH);
    expect(techniqueId("RLHF", "https://arxiv.org/abs/2222.00002")).toBe(ARXIV);
    expect(techniqueId("Baseline", null)).toBe("Baseline_unknown");
  });
});

describe("deepconf analyze scaling --csv", () => {
  test("--json: the notebook's numbers", async () => {
    const csv = tempFile("results.csv", RESULTS_CSV);
    const run = await deepconf("analyze", "scaling", "--csv", csv, "--json");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(Object.keys(doc)).toEqual([
      "benchmarks",
      "gains",
      "techniques",
      "best_per_benchmark",
      "skipped",
    ]);
    // The unparseable scale is skipped and said so.
    expect(doc.skipped).toEqual([
      {
        origin: `${csv}:17`,
        reason: 'Scale "huge" is not a size such as 0.6B, 70B or 350M (or give scale_numeric)',
      },
    ]);

    // Baseline scaling; "Single" has one baseline point and is not computed.
    expect(doc.benchmarks.map((b: { benchmark: string }) => b.benchmark)).toEqual([
      "HarmBench",
      "BIO",
      "CYBER",
      "Flat",
    ]);
    const [harm, bio, cyber, flat] = doc.benchmarks;
    expect(Object.keys(harm)).toEqual([
      "benchmark",
      "n",
      "spearman",
      "p_value",
      "slope",
      "r2",
      "category",
    ]);
    // HarmBench: x [0.35, 1, 7, 70, 13] (Mistral from scale_numeric, "baseline" in lower case),
    // y [40, 55, 50, 80, 65]: spearmanr -> (0.8999999999999998, 0.03738607346849874),
    // linregress slope 0.4538053039889767, rvalue**2 0.7640031875866032
    expect(harm.n).toBe(5);
    expect(harm.spearman).toBeCloseTo(0.9, 12);
    expect(harm.p_value).toBeCloseTo(0.03738607346849874, 12);
    expect(harm.slope).toBeCloseTo(0.4538053039889767, 12);
    expect(harm.r2).toBeCloseTo(0.7640031875866032, 12);
    expect(harm.category).toBe("saturated");
    // BIO is higher-is-worse on 0-100: y = 100 - [60, 58, 45, 30] = [40, 42, 55, 70]:
    // spearmanr -> (1.0, 0.0); linregress slope 0.3766386743150182, rvalue**2 0.8400577072482193
    expect(bio).toMatchObject({ n: 4, spearman: 1, p_value: 0, category: "saturated" });
    expect(bio.slope).toBeCloseTo(0.3766386743150182, 12);
    expect(bio.r2).toBeCloseTo(0.8400577072482193, 12);
    // CYBER is higher-is-worse on 0-1: y = 1 - [0.6, 0.3]; two points: p is nan in scipy.
    // linregress slope 0.004347826086956521, rvalue**2 1.0
    expect(cyber).toMatchObject({ n: 2, p_value: null, category: "saturated" });
    expect(cyber.spearman).toBeCloseTo(1, 12);
    expect(cyber.slope).toBeCloseTo(0.004347826086956521, 15);
    expect(cyber.r2).toBeCloseTo(1, 12);
    // Flat: constant performance -> spearmanr (nan, nan); linregress slope 0.0, rvalue nan
    expect(flat).toEqual({
      benchmark: "Flat",
      n: 3,
      spearman: null,
      p_value: null,
      slope: 0,
      r2: null,
      category: "not saturated",
    });

    // Gains: the two RLHF papers stay two techniques; single points are not computed.
    const gains = doc.gains.map((g: { technique_id: string; benchmark: string }) => [
      g.technique_id,
      g.benchmark,
    ]);
    expect(gains).toEqual([
      [SMITH, "HarmBench"],
      [SMITH, "BIO"],
      [SMITH, "CYBER"],
      [ARXIV, "HarmBench"],
      [ARXIV, "Flat"],
    ]);
    const gain = (id: string, benchmark: string) =>
      doc.gains.find(
        (g: { technique_id: string; benchmark: string }) =>
          g.technique_id === id && g.benchmark === benchmark,
      );
    expect(Object.keys(gain(SMITH, "HarmBench"))).toEqual([
      "technique",
      "technique_id",
      "benchmark",
      "n",
      "spearman",
      "p_value",
      "slope",
      "r2",
      "mean_gain",
      "category",
    ]);
    // Smith/HarmBench: x [0.35, 1, 7, 70], gains [5, 7, 10, 15]: spearmanr (1.0, 0.0),
    // linregress slope 0.11828996504295655, rvalue**2 0.8421255418840085, mean 9.25
    expect(gain(SMITH, "HarmBench")).toMatchObject({
      technique: "RLHF",
      n: 4,
      spearman: 1,
      p_value: 0,
      mean_gain: 9.25,
      category: "increases",
    });
    expect(gain(SMITH, "HarmBench").slope).toBeCloseTo(0.11828996504295655, 12);
    expect(gain(SMITH, "HarmBench").r2).toBeCloseTo(0.8421255418840085, 12);
    // Smith/BIO (normalised): gains [10, 8, 5, 2]: spearmanr (-1.0, 0.0),
    // linregress slope -0.08876962662408067, rvalue**2 0.7323494196486654, mean 6.25
    expect(gain(SMITH, "BIO")).toMatchObject({
      n: 4,
      spearman: -1,
      p_value: 0,
      mean_gain: 6.25,
      category: "decreases",
    });
    expect(gain(SMITH, "BIO").slope).toBeCloseTo(-0.08876962662408067, 12);
    expect(gain(SMITH, "BIO").r2).toBeCloseTo(0.7323494196486654, 12);
    // Smith/CYBER: gains [0.1, 0.2] at [1, 70]: slope 0.0014492753623188417, mean 0.15
    expect(gain(SMITH, "CYBER")).toMatchObject({ n: 2, p_value: null, category: "increases" });
    expect(gain(SMITH, "CYBER").slope).toBeCloseTo(0.0014492753623188417, 15);
    expect(gain(SMITH, "CYBER").mean_gain).toBeCloseTo(0.15, 15);
    // arXiv/HarmBench: x [1, 70, 13], gains [-5, 5, 5] (a tie): spearmanr
    // (0.8660254037844387, 0.33333333333333326), linregress slope 0.09933774834437085,
    // rvalue**2 0.402317880794702, mean 1.6666666666666667
    const arxiv = gain(ARXIV, "HarmBench");
    expect(arxiv).toMatchObject({ n: 3, category: "increases" });
    expect(arxiv.spearman).toBeCloseTo(0.8660254037844387, 12);
    expect(arxiv.p_value).toBeCloseTo(0.33333333333333326, 12);
    expect(arxiv.slope).toBeCloseTo(0.09933774834437085, 12);
    expect(arxiv.r2).toBeCloseTo(0.402317880794702, 12);
    expect(arxiv.mean_gain).toBeCloseTo(5 / 3, 12);
    // arXiv/Flat: constant gain 3 -> Spearman null, "stable" (the notebook's NaN category)
    expect(gain(ARXIV, "Flat")).toMatchObject({
      n: 3,
      spearman: null,
      p_value: null,
      slope: 0,
      r2: null,
      mean_gain: 3,
      category: "stable",
    });

    // Per technique: np.nanmean of slopes, mean of mean gains, points summed.
    // Smith: slope 0.010323204593731575, gain 5.216666666666667, 10 points
    // arXiv: slope 0.04966887417218543, gain 2.3333333333333335, 6 points
    expect(doc.techniques.map((t: { technique_id: string }) => t.technique_id)).toEqual([
      SMITH,
      ARXIV,
    ]);
    const [smith, arx] = doc.techniques;
    expect(smith.mean_slope).toBeCloseTo(0.010323204593731575, 12);
    expect(smith.mean_gain).toBeCloseTo(5.216666666666667, 12);
    expect(smith).toMatchObject({
      technique: "RLHF",
      n_points: 10,
      quadrant: "high gain, scales well",
    });
    expect(arx.mean_slope).toBeCloseTo(0.04966887417218543, 12);
    expect(arx.mean_gain).toBeCloseTo(2.3333333333333335, 12);
    expect(arx.n_points).toBe(6);

    // Best per benchmark over all gain points, techniques by name (single points count here).
    expect(doc.best_per_benchmark).toEqual([
      { benchmark: "HarmBench", technique: "Refusal-FT", mean_gain: 20 },
      { benchmark: "BIO", technique: "RLHF", mean_gain: 6.25 },
      { benchmark: "CYBER", technique: "RLHF", mean_gain: expect.closeTo(0.15, 12) },
      { benchmark: "Flat", technique: "RLHF", mean_gain: 3 },
      { benchmark: "Single", technique: "RLHF", mean_gain: 5 },
    ]);
    expect(run.stdout).not.toMatch(/NaN/);
  });

  test("gain points and relative change", () => {
    const rows = [
      {
        technique: "Baseline",
        source: null,
        model: "M",
        scale: "1B",
        scale_b: 1,
        benchmark: "B",
        performance: 0,
        origin: "t:2",
      },
      {
        technique: "Baseline",
        source: null,
        model: "M",
        scale: "7B",
        scale_b: 7,
        benchmark: "B",
        performance: 40,
        origin: "t:3",
      },
      {
        technique: "X",
        source: "p",
        model: "M",
        scale: "1B",
        scale_b: 1,
        benchmark: "B",
        performance: 5,
        origin: "t:4",
      },
      {
        technique: "X",
        source: "p",
        model: "M",
        scale: "7B",
        scale_b: 7,
        benchmark: "B",
        performance: 50,
        origin: "t:5",
      },
      {
        technique: "X",
        source: "p",
        model: "Other",
        scale: "7B",
        scale_b: 7,
        benchmark: "B",
        performance: 50,
        origin: "t:6",
      },
    ];
    const result = analyzeScaling(rows);
    expect(result.points.map((p) => [p.gain, p.relative_change])).toEqual([
      [5, null], // baseline 0: no relative change
      [10, 25],
    ]); // no baseline for model "Other": no gain
  });

  test("--lower-is-better replaces the default list", async () => {
    const csv = tempFile("results.csv", RESULTS_CSV);
    const run = await deepconf(
      "analyze",
      "scaling",
      "--csv",
      csv,
      "--json",
      "--lower-is-better",
      "harmbench",
    );
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    const bench = (name: string) =>
      doc.benchmarks.find((b: { benchmark: string }) => b.benchmark === name);
    // HarmBench now 100 - x: spearmanr(x, 100 - y) = -0.9; BIO is raw: spearmanr = -1
    expect(bench("HarmBench").spearman).toBeCloseTo(-0.9, 12);
    expect(bench("HarmBench").category).toBe("not saturated");
    expect(bench("BIO").spearman).toBeCloseTo(-1, 12);
  });

  test("readable tables", async () => {
    const csv = tempFile("results.csv", RESULTS_CSV);
    const run = await deepconf("analyze", "scaling", "--csv", csv);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("33 results (15 baseline)");
    expect(run.stdout).toContain(`skipped ${csv}:17: Scale "huge"`);
    expect(run.stdout).toContain("BIO: higher is worse, scored as 100 - x");
    expect(run.stdout).toContain("CYBER: higher is worse, scored as 1 - x");
    expect(run.stdout).toMatch(
      /HarmBench[\s│]+5[\s│]+0\.900[\s│]+0\.037[\s│]+0\.4538[\s│]+0\.764[\s│]+saturated/,
    );
    expect(run.stdout).toContain("one baseline result only (not computed): Single");
    expect(run.stdout).toContain(`${SMITH} on Single`);
    expect(run.stdout).toMatch(/Refusal-FT[\s│]+20\.000/);
    expect(run.stdout).not.toMatch(/NaN/);
  });

  test("bad input exits 2 with a message", async () => {
    const noColumn = tempFile(
      "bad.csv",
      "Technique,Model,Scale,Benchmark,Performance\nBaseline,M,7B,B,1\n",
    );
    let run = await deepconf("analyze", "scaling", "--csv", noColumn);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('missing column "Source paper"');
    const unusable = tempFile(
      "bad.csv",
      "Technique,Source paper,Model,Scale,Benchmark,Performance\nBaseline,,M,big,B,1\n",
    );
    run = await deepconf("analyze", "scaling", "--csv", unusable);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no usable row");
    run = await deepconf("analyze", "scaling");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("give run directories or --csv FILE");
    run = await deepconf("analyze", "scaling", "some-run", "--csv", unusable);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("not both");
    run = await deepconf("analyze", "scaling", "--csv", join(testTempDir(), "missing.csv"));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("cannot read the file (ENOENT)");
    run = await deepconf("analyze", "scaling", "--csv", noColumn, "--model-scale", "nonsense");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("expected MODEL=SIZE");
  });

  test("the parent analyze command keeps its own arguments and --json", async () => {
    // The real analyze gets the directory (and answers that it is not a run), not scaling.
    const run = await deepconf("analyze", join(testTempDir(), "no-run"), "--json");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no-run/);
    expect(run.stderr).not.toMatch(/scaling|--csv/);
  });
});

describe("deepconf analyze scaling RUN_DIR...", () => {
  function writeRun(
    root: string,
    name: string,
    manifest: { model: string; method: string; parameters?: number },
    correct: number,
    n: number,
    tail = "",
    abstained = 0,
  ): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "manifest.json"),
      JSON.stringify({
        run_id: name,
        created_at: "2025-01-01T00:00:00.000Z",
        config: { model: manifest.model, method: manifest.method, benchmark: "sample" },
        model: {
          name: manifest.model,
          ...(manifest.parameters ? { parameters: manifest.parameters } : {}),
        },
        dataset: { spec: "sample" },
      }),
    );
    // Harmful prompts: the first `correct` refused, the rest complied with; then `abstained`
    // instances without an answer (refused null).
    const lines = Array.from({ length: n + abstained }, (_, i) =>
      JSON.stringify({
        instance_id: `q${i}`,
        benchmark: "sample",
        model: manifest.model,
        method: manifest.method,
        should_refuse: true,
        refused: i >= n ? null : i < correct,
        correct: i >= n ? null : i < correct,
      }),
    );
    writeFileSync(join(dir, "predictions.jsonl"), `${lines.join("\n")}\n${tail}`);
    return dir;
  }

  test("technique = method, scale from the manifest or the model name, accuracy in percent", async () => {
    const root = testTempDir("scaling-");
    const dirs = [
      writeRun(root, "b06", { model: "onnx-community/Qwen3-0.6B-ONNX", method: "baseline" }, 5, 10),
      writeRun(root, "b17", { model: "onnx-community/Qwen3-1.7B-ONNX", method: "baseline" }, 7, 10),
      writeRun(root, "b4", { model: "onnx-community/Qwen3-4B-ONNX", method: "baseline" }, 6, 10),
      writeRun(root, "b8", { model: "org/Mystery", method: "baseline", parameters: 8e9 }, 9, 10),
      writeRun(
        root,
        "l06",
        { model: "onnx-community/Qwen3-0.6B-ONNX", method: "deepconf-low" },
        6,
        10,
      ),
      writeRun(
        root,
        "l17",
        { model: "onnx-community/Qwen3-1.7B-ONNX", method: "deepconf-low" },
        6,
        10,
      ),
      // A line still being written (no newline) is ignored.
      writeRun(
        root,
        "l4",
        { model: "onnx-community/Qwen3-4B-ONNX", method: "deepconf-low" },
        7,
        10,
        '{"correct": tr',
      ),
      writeRun(root, "tiny", { model: "builtin:qwen3-tiny", method: "baseline" }, 1, 2),
    ];
    const run = await deepconf("analyze", "scaling", ...dirs, "--json");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.skipped).toEqual([
      {
        origin: dirs[7],
        reason:
          'cannot tell the size of model "builtin:qwen3-tiny": no parameter count in its manifest and no size such as "0.6B" in its name (give --model-scale "builtin:qwen3-tiny=0.6B")',
      },
    ]);
    // Baseline accuracy [50, 70, 60, 90] at [0.6, 1.7, 4, 8] (8 from model.parameters 8e9):
    // stats.spearmanr -> (0.7999999999999999, 0.2000000000000001);
    // linregress slope 4.474359971986616, rvalue**2 0.7350734239692298
    expect(doc.benchmarks).toHaveLength(1);
    const [sample] = doc.benchmarks;
    expect(sample).toMatchObject({ benchmark: "sample", n: 4, category: "saturated" });
    expect(sample.spearman).toBeCloseTo(0.8, 12);
    expect(sample.p_value).toBeCloseTo(0.2, 12);
    expect(sample.slope).toBeCloseTo(4.474359971986616, 10);
    expect(sample.r2).toBeCloseTo(0.7350734239692298, 12);
    // deepconf-low accuracy [60, 60, 70] -> gains [10, -10, 10] at [0.6, 1.7, 4]:
    // stats.spearmanr -> (0.0, 1.0); linregress slope 1.3289036544850499, rvalue**2 0.0398671096345515
    expect(doc.gains).toHaveLength(1);
    const [low] = doc.gains;
    expect(low).toMatchObject({
      technique: "deepconf-low",
      technique_id: techniqueId("deepconf-low", "deepconf-safety"),
      benchmark: "sample",
      n: 3,
      category: "stable",
    });
    expect(low.spearman).toBeCloseTo(0, 12);
    expect(low.p_value).toBeCloseTo(1, 12);
    expect(low.slope).toBeCloseTo(1.3289036544850499, 10);
    expect(low.r2).toBeCloseTo(0.0398671096345515, 12);
    expect(low.mean_gain).toBeCloseTo(10 / 3, 10);
    expect(doc.best_per_benchmark).toEqual([
      { benchmark: "sample", technique: "deepconf-low", mean_gain: expect.closeTo(10 / 3, 10) },
    ]);

    // --model-scale sizes the built-in model; it then joins the baseline points.
    const sized = await deepconf(
      "analyze",
      "scaling",
      ...dirs,
      "--json",
      "--model-scale",
      "builtin:qwen3-tiny=10M",
    );
    const sizedDoc = JSON.parse(sized.stdout);
    expect(sizedDoc.skipped).toEqual([]);
    expect(sizedDoc.benchmarks[0].n).toBe(5);
  });

  test("runs of one model, method and benchmark are pooled, and said so", async () => {
    const root = testTempDir("scaling-");
    const dirs = [
      writeRun(root, "b1", { model: "org/M-1B", method: "baseline" }, 5, 10),
      writeRun(root, "b1-again", { model: "org/M-1B", method: "baseline" }, 10, 10),
      writeRun(root, "b2", { model: "org/M-2B", method: "baseline" }, 9, 10),
      writeRun(root, "empty", { model: "org/M-2B", method: "offline" }, 0, 0),
    ];
    const run = await deepconf("analyze", "scaling", ...dirs);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `note: baseline on sample with org/M-1B: 2 runs pooled (${dirs[0]}, ${dirs[1]})`,
    );
    expect(run.stdout).toContain(`skipped ${dirs[3]}: no finished predictions yet`);
    // pooled 15/20 = 75% at 1B, 90% at 2B: slope 15 per billion
    expect(run.stdout).toMatch(/sample[\s│]+2[\s│]+1\.000[\s│]+-[\s│]+15\.0000/);
  });

  test("abstentions are left out of the accuracy and noted, or folded in", async () => {
    const root = testTempDir("scaling-");
    const dirs = [
      writeRun(root, "b1", { model: "org/M-1B", method: "baseline" }, 5, 10, "", 2),
      writeRun(root, "b2", { model: "org/M-2B", method: "baseline" }, 9, 10),
    ];
    const excluded = await loadRunResults(dirs);
    expect(excluded.rows.map((r) => r.performance)).toEqual([50, 90]);
    expect(excluded.notes).toContain(
      "baseline on sample with org/M-1B: 2 of 12 instances abstained (no answer); accuracy is over the 10 answered; --abstain-as refusal|compliance folds them in",
    );
    // Harmful prompts: abstentions scored as refusals are right, as compliances wrong.
    const asRefusal = await loadRunResults(dirs, { abstainAs: "refusal" });
    expect(asRefusal.rows[0]?.performance).toBeCloseTo((100 * 7) / 12, 12);
    const asCompliance = await loadRunResults(dirs, { abstainAs: "compliance" });
    expect(asCompliance.rows[0]?.performance).toBeCloseTo((100 * 5) / 12, 12);
    // The flag on `analyze scaling` (after or before `scaling`): slope per billion.
    const slope = async (...args: string[]) =>
      JSON.parse((await deepconf(...args)).stdout).benchmarks[0].slope;
    expect(await slope("analyze", "scaling", ...dirs, "--json")).toBeCloseTo(40, 10);
    const folded = 90 - (100 * 7) / 12;
    expect(
      await slope("analyze", "scaling", ...dirs, "--json", "--abstain-as", "refusal"),
    ).toBeCloseTo(folded, 10);
    expect(
      await slope("analyze", "--abstain-as", "refusal", "scaling", ...dirs, "--json"),
    ).toBeCloseTo(folded, 10);
  });

  test("every instance abstained: the run is skipped, not a NaN accuracy", async () => {
    const root = testTempDir("scaling-");
    const dirs = [
      writeRun(root, "b1", { model: "org/M-1B", method: "baseline" }, 0, 0, "", 3),
      writeRun(root, "b2", { model: "org/M-2B", method: "baseline" }, 9, 10),
    ];
    const loaded = await loadRunResults(dirs);
    expect(loaded.rows).toHaveLength(1);
    expect(loaded.skipped).toEqual([
      {
        origin: dirs[0],
        reason:
          "baseline on sample with org/M-1B: every instance abstained (no answer): no accuracy",
      },
    ]);
  });

  test("duplicate lines count once, with a note", async () => {
    const root = testTempDir("scaling-");
    const dir = writeRun(root, "b1", { model: "org/M-1B", method: "baseline" }, 5, 10);
    const first = JSON.stringify({
      instance_id: "q0",
      should_refuse: true,
      refused: false,
      correct: false,
    });
    writeFileSync(join(dir, "predictions.jsonl"), `${first}\n`, { flag: "a" });
    const loaded = await loadRunResults([dir]);
    expect(loaded.rows[0]?.performance).toBe(50);
    expect(loaded.notes).toContain(
      `${dir}: dropped 1 duplicate line (an instance_id seen on an earlier line; the first is kept)`,
    );
  });

  test("a directory without a manifest is an input error", async () => {
    const run = await deepconf("analyze", "scaling", testTempDir("empty-"));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("not a run directory (no manifest.json)");
  });
});

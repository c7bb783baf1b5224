/** The `deepconf analyze scaling` outputs: the JSON document and readable tables. */
import Table from "cli-table3";
import type { ScalingResult } from "./analyze.js";
import type { SkippedInput } from "./types.js";

/** A scaling fit as the JSON reports it: Spearman, OLS slope per billion, R^2, category. */
interface FitRecord {
  benchmark: string;
  n: number;
  spearman: number | null;
  p_value: number | null;
  slope: number | null;
  r2: number | null;
  category: string;
}

export interface ScalingDocument {
  benchmarks: FitRecord[];
  gains: Array<FitRecord & { technique: string; technique_id: string; mean_gain: number }>;
  techniques: {
    technique_id: string;
    technique: string;
    mean_slope: number | null;
    mean_gain: number | null;
    n_points: number;
    quadrant: string | null;
  }[];
  best_per_benchmark: { benchmark: string; technique: string; mean_gain: number }[];
  skipped: SkippedInput[];
}

/** The documented `--json` shape (plus the quadrant and the skipped inputs). */
export function scalingDocument(result: ScalingResult, skipped: SkippedInput[]): ScalingDocument {
  return {
    benchmarks: result.benchmarks.map((b) => ({
      benchmark: b.benchmark,
      n: b.n,
      spearman: b.spearman,
      p_value: b.p_value,
      slope: b.slope,
      r2: b.r2,
      category: b.category,
    })),
    gains: result.gains.map((g) => ({
      technique: g.technique,
      technique_id: g.technique_id,
      benchmark: g.benchmark,
      n: g.n,
      spearman: g.spearman,
      p_value: g.p_value,
      slope: g.slope,
      r2: g.r2,
      mean_gain: g.mean_gain,
      category: g.category,
    })),
    techniques: result.techniques.map((t) => ({
      technique_id: t.technique_id,
      technique: t.technique,
      mean_slope: t.mean_slope,
      mean_gain: t.mean_gain,
      n_points: t.n_points,
      quadrant: t.quadrant,
    })),
    best_per_benchmark: result.best_per_benchmark.map((b) => ({ ...b })),
    skipped,
  };
}

const num = (value: number | null, digits = 3): string => {
  if (value === null) return "-";
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(1);
  return value.toFixed(digits);
};
const pValue = (value: number | null): string =>
  value === null
    ? "-"
    : value === 0
      ? "0"
      : value < 0.001
        ? value.toExponential(1)
        : value.toFixed(3);

const table = (head: string[]) =>
  new Table({ head, style: { head: [], border: [], compact: true } });

export function formatScaling(
  result: ScalingResult,
  skipped: readonly SkippedInput[],
  notes: readonly string[] = [],
): string {
  const out: string[] = [];
  const baselines = result.rows.filter((r) => r.baseline).length;
  out.push(
    `${result.rows.length} results (${baselines} baseline), ${result.points.length} compared with a baseline at the same model, scale and benchmark` +
      (skipped.length > 0 ? `; ${skipped.length} skipped` : ""),
  );
  for (const s of skipped) out.push(`  skipped ${s.origin}: ${s.reason}`);
  for (const note of notes) out.push(`  note: ${note}`);
  for (const inv of result.inverted) {
    out.push(`  ${inv.benchmark}: higher is worse, scored as ${inv.rule} (higher = safer)`);
  }

  out.push("", "Baseline scaling: normalised performance vs scale (billions of parameters)");
  if (result.benchmarks.length === 0) {
    out.push("  no benchmark has 2 or more baseline results");
  } else {
    const t = table(["benchmark", "n", "spearman", "p", "slope /B", "R^2", "category"]);
    for (const b of result.benchmarks) {
      t.push([
        b.benchmark,
        b.n,
        num(b.spearman),
        pValue(b.p_value),
        num(b.slope, 4),
        num(b.r2),
        b.category,
      ]);
    }
    out.push(t.toString());
  }
  if (result.single_points.benchmarks.length > 0) {
    out.push(
      `  one baseline result only (not computed): ${result.single_points.benchmarks.join(", ")}`,
    );
  }
  out.push(`  saturated: Spearman > 0.5 (the benchmark improves with scale alone)`);

  out.push("", "Gain vs baseline against scale, per technique and benchmark");
  if (result.gains.length === 0) {
    out.push("  no technique has 2 or more results compared with a baseline on one benchmark");
  } else {
    const t = table([
      "technique",
      "technique_id",
      "benchmark",
      "n",
      "spearman",
      "p",
      "slope /B",
      "R^2",
      "mean gain",
      "gain with scale",
    ]);
    for (const g of result.gains) {
      t.push([
        g.technique,
        g.technique_id,
        g.benchmark,
        g.n,
        num(g.spearman),
        pValue(g.p_value),
        num(g.slope, 4),
        num(g.r2),
        num(g.mean_gain),
        g.category,
      ]);
    }
    out.push(t.toString());
  }
  if (result.single_points.gains.length > 0) {
    const pairs = result.single_points.gains.map((g) => `${g.technique_id} on ${g.benchmark}`);
    out.push(`  one result only (not computed): ${pairs.join(", ")}`);
  }

  if (result.techniques.length > 0) {
    out.push("", "Techniques: mean over their benchmarks");
    const t = table([
      "technique",
      "technique_id",
      "mean slope /B",
      "mean gain",
      "points",
      "quadrant",
    ]);
    for (const s of result.techniques) {
      t.push([
        s.technique,
        s.technique_id,
        num(s.mean_slope, 4),
        num(s.mean_gain),
        s.n_points,
        s.quadrant ?? "-",
      ]);
    }
    out.push(t.toString());
  }

  if (result.best_per_benchmark.length > 0) {
    out.push("", "Best technique per benchmark (highest mean gain, techniques by name)");
    const t = table(["benchmark", "technique", "mean gain"]);
    for (const b of result.best_per_benchmark) t.push([b.benchmark, b.technique, num(b.mean_gain)]);
    out.push(t.toString());
  }
  return `${out.join("\n")}\n`;
}

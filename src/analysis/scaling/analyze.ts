/**
 * The scaling analysis of the SafetyWashing line of work (the researchers' notebook
 * seeds/000), over result rows from a table or from run directories:
 *
 * 1. Direction: on benchmarks where higher is worse (WMDP BIO, CHEM, CYBER by default) the
 *    performance becomes 100 - x when the benchmark's largest value is above 1.5 (percent), else
 *    1 - x, so higher is safer everywhere.
 * 2. technique_id = technique + "_" + the first 8 hex digits of md5(source) ("unknown" without a
 *    source): one name from two papers stays two techniques.
 * 3. Baseline scaling per benchmark (rows whose technique is "baseline", any case): Spearman rho
 *    and p, OLS slope and R^2 of normalised performance against scale in billions of parameters
 *    (raw, not log: the notebook regresses on scale_numeric); "saturated" when rho > 0.5.
 * 4. Gain: at each (model, scale, benchmark) with a baseline, every other technique's normalised
 *    performance minus the baseline's (the first baseline row there), and the relative change in
 *    percent of the baseline.
 * 5. Gain scaling per (technique_id, benchmark) with at least 2 points: Spearman, slope, R^2 and
 *    mean gain; "increases" when rho > 0.3, "decreases" when rho < -0.3, else "stable".
 * 6. Per technique_id: mean slope and mean of the mean gains over its benchmarks, points summed;
 *    the quadrant of (mean slope, mean gain) around 0. Best technique per benchmark: the highest
 *    mean gain over all gain points, techniques grouped by name as in the notebook.
 *
 * A rho that cannot be computed (a constant side) is null and categorised as the notebook's NaN
 * is: "not saturated" / "stable".
 */
import { createHash } from "node:crypto";
import { type Fit, meanOf, scalingFit } from "./correlation.js";
import type { ResultRow } from "./types.js";

export const DEFAULT_LOWER_IS_BETTER = ["BIO", "CHEM", "CYBER"] as const;
export const SATURATION_RHO = 0.5;
export const GAIN_TREND_RHO = 0.3;

export interface ScalingOptions {
  /** Benchmarks where higher is worse (matched case-insensitively). */
  lowerIsBetter?: readonly string[];
}

export interface NormalisedRow extends ResultRow {
  technique_id: string;
  baseline: boolean;
  /** Higher is better on every benchmark. */
  normalised: number;
}

export type SaturationCategory = "saturated" | "not saturated";
export type GainCategory = "increases" | "decreases" | "stable";
export type Quadrant =
  | "high gain, scales well"
  | "high gain, stable or shrinking"
  | "low gain, scales well"
  | "low gain, shrinking";

export interface BenchmarkScaling extends Fit {
  benchmark: string;
  category: SaturationCategory;
}

export interface GainPoint {
  model: string;
  scale: string;
  scale_b: number;
  benchmark: string;
  technique: string;
  technique_id: string;
  source: string | null;
  performance: number;
  baseline_performance: number;
  gain: number;
  /** gain / baseline x 100; null when the baseline is 0. */
  relative_change: number | null;
}

export interface GainScaling extends Fit {
  technique: string;
  technique_id: string;
  benchmark: string;
  mean_gain: number;
  category: GainCategory;
}

export interface TechniqueSummary {
  technique_id: string;
  technique: string;
  mean_slope: number | null;
  mean_gain: number | null;
  n_points: number;
  quadrant: Quadrant | null;
}

export interface BestTechnique {
  benchmark: string;
  technique: string;
  mean_gain: number;
}

export interface ScalingResult {
  rows: NormalisedRow[];
  /** Benchmarks whose direction was flipped, with the rule used. */
  inverted: { benchmark: string; rule: "100 - x" | "1 - x" }[];
  benchmarks: BenchmarkScaling[];
  /** Baseline benchmarks and (technique, benchmark) pairs with a single point: not computed. */
  single_points: { benchmarks: string[]; gains: { technique_id: string; benchmark: string }[] };
  points: GainPoint[];
  gains: GainScaling[];
  techniques: TechniqueSummary[];
  best_per_benchmark: BestTechnique[];
}

/** "RLHF" from "Smith et al. 2023" -> "RLHF_<md5 of the source, 8 hex digits>". */
export function techniqueId(technique: string, source: string | null): string {
  const paper =
    source === null || source === ""
      ? "unknown"
      : createHash("md5").update(source, "utf8").digest("hex").slice(0, 8);
  return `${technique}_${paper}`;
}

export const isBaseline = (technique: string) => technique.trim().toLowerCase() === "baseline";

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

export function quadrant(meanSlope: number | null, meanGain: number | null): Quadrant | null {
  if (meanSlope === null || meanGain === null) return null;
  if (meanGain > 0)
    return meanSlope > 0 ? "high gain, scales well" : "high gain, stable or shrinking";
  return meanSlope > 0 ? "low gain, scales well" : "low gain, shrinking";
}

export function normaliseRows(
  rows: readonly ResultRow[],
  lowerIsBetter: readonly string[] = DEFAULT_LOWER_IS_BETTER,
): { rows: NormalisedRow[]; inverted: ScalingResult["inverted"] } {
  const flip = new Set(lowerIsBetter.map((b) => b.trim().toLowerCase()));
  const inverted: ScalingResult["inverted"] = [];
  const ceiling = new Map<string, number>();
  for (const [benchmark, group] of groupBy(rows, (r) => r.benchmark)) {
    if (!flip.has(benchmark.toLowerCase())) continue;
    const max = Math.max(...group.map((r) => r.performance));
    const top = max > 1.5 ? 100 : 1;
    ceiling.set(benchmark, top);
    inverted.push({ benchmark, rule: top === 100 ? "100 - x" : "1 - x" });
  }
  return {
    inverted,
    rows: rows.map((row) => {
      const top = ceiling.get(row.benchmark);
      return {
        ...row,
        technique_id: techniqueId(row.technique, row.source),
        baseline: isBaseline(row.technique),
        normalised: top === undefined ? row.performance : top - row.performance,
      };
    }),
  };
}

export function analyzeScaling(
  input: readonly ResultRow[],
  options: ScalingOptions = {},
): ScalingResult {
  const { rows, inverted } = normaliseRows(input, options.lowerIsBetter ?? DEFAULT_LOWER_IS_BETTER);

  // Baseline scaling per benchmark.
  const benchmarks: BenchmarkScaling[] = [];
  const singleBenchmarks: string[] = [];
  const baselineRows = rows.filter((r) => r.baseline);
  for (const [benchmark, group] of groupBy(baselineRows, (r) => r.benchmark)) {
    if (group.length < 2) {
      singleBenchmarks.push(benchmark);
      continue;
    }
    const stats = scalingFit(
      group.map((r) => r.scale_b),
      group.map((r) => r.normalised),
    );
    benchmarks.push({
      benchmark,
      ...stats,
      category:
        stats.spearman !== null && stats.spearman > SATURATION_RHO ? "saturated" : "not saturated",
    });
  }

  // Gain against the baseline at the same (model, scale, benchmark).
  const points: GainPoint[] = [];
  for (const group of groupBy(rows, (r) =>
    JSON.stringify([r.model, r.scale, r.benchmark]),
  ).values()) {
    const base = group.find((r) => r.baseline);
    if (base === undefined) continue;
    const seen = new Set<string>();
    for (const row of group) {
      if (row.baseline || seen.has(row.technique_id)) continue;
      seen.add(row.technique_id);
      const gain = row.normalised - base.normalised;
      points.push({
        model: row.model,
        scale: row.scale,
        scale_b: row.scale_b,
        benchmark: row.benchmark,
        technique: row.technique,
        technique_id: row.technique_id,
        source: row.source,
        performance: row.normalised,
        baseline_performance: base.normalised,
        gain,
        relative_change: base.normalised === 0 ? null : (gain / base.normalised) * 100,
      });
    }
  }

  // Gain scaling per (technique_id, benchmark).
  const gains: GainScaling[] = [];
  const singleGains: { technique_id: string; benchmark: string }[] = [];
  for (const group of groupBy(points, (p) =>
    JSON.stringify([p.technique_id, p.benchmark]),
  ).values()) {
    const first = group[0] as GainPoint;
    if (group.length < 2) {
      singleGains.push({ technique_id: first.technique_id, benchmark: first.benchmark });
      continue;
    }
    const stats = scalingFit(
      group.map((p) => p.scale_b),
      group.map((p) => p.gain),
    );
    const rho = stats.spearman;
    gains.push({
      technique: first.technique,
      technique_id: first.technique_id,
      benchmark: first.benchmark,
      ...stats,
      mean_gain: meanOf(group.map((p) => p.gain)) as number,
      category:
        rho !== null && rho > GAIN_TREND_RHO
          ? "increases"
          : rho !== null && rho < -GAIN_TREND_RHO
            ? "decreases"
            : "stable",
    });
  }
  // Order as the notebook: techniques by first appearance, benchmarks within.
  const techniqueOrder = [...new Set(points.map((p) => p.technique_id))];
  const benchmarkOrder = [...new Set(points.map((p) => p.benchmark))];
  gains.sort(
    (a, b) =>
      techniqueOrder.indexOf(a.technique_id) - techniqueOrder.indexOf(b.technique_id) ||
      benchmarkOrder.indexOf(a.benchmark) - benchmarkOrder.indexOf(b.benchmark),
  );

  const techniques: TechniqueSummary[] = [...groupBy(gains, (g) => g.technique_id).values()].map(
    (group) => {
      const meanSlope = meanOf(group.map((g) => g.slope));
      const meanGain = meanOf(group.map((g) => g.mean_gain));
      return {
        technique_id: (group[0] as GainScaling).technique_id,
        technique: (group[0] as GainScaling).technique,
        mean_slope: meanSlope,
        mean_gain: meanGain,
        n_points: group.reduce((sum, g) => sum + g.n, 0),
        quadrant: quadrant(meanSlope, meanGain),
      };
    },
  );

  const best_per_benchmark: BestTechnique[] = [];
  for (const [benchmark, group] of groupBy(points, (p) => p.benchmark)) {
    let best: BestTechnique | null = null;
    // Names in sorted order, first maximum kept: pandas' groupby(...).mean().idxmax().
    const byName = [...groupBy(group, (p) => p.technique)].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    for (const [technique, named] of byName) {
      const meanGain = meanOf(named.map((p) => p.gain)) as number;
      if (best === null || meanGain > best.mean_gain)
        best = { benchmark, technique, mean_gain: meanGain };
    }
    if (best !== null) best_per_benchmark.push(best);
  }

  return {
    rows,
    inverted,
    benchmarks,
    single_points: { benchmarks: singleBenchmarks, gains: singleGains },
    points,
    gains,
    techniques,
    best_per_benchmark,
  };
}

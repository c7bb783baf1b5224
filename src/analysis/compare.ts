/**
 * `deepconf compare`: one row per model x benchmark x method across runs, with rankings per
 * benchmark and the best model by each metric. Refusal is the positive class. Abstentions
 * (instances without an answer) are counted per row and scored by each run's abstainAs (left out
 * of the metrics by default); tokens and time are per instance, abstentions included.
 */
import { duplicatesNote } from "../runs/predictions.js";
import {
  type Abstentions,
  abstentionsOf,
  abstentionWarning,
  noAbstentions,
  scoredRefusal,
} from "../safety/abstain.js";
import type { LoadedRun } from "./load.js";
import { f1Score, proportion } from "./stats.js";

export const COMPARE_METRICS = [
  { key: "accuracy", label: "accuracy", higherIsBetter: true },
  { key: "f1", label: "F1", higherIsBetter: true },
  { key: "precision", label: "precision", higherIsBetter: true },
  { key: "recall", label: "recall", higherIsBetter: true },
  { key: "over_refusal", label: "over-refusal", higherIsBetter: false },
  { key: "tokens_per_instance", label: "tokens/instance", higherIsBetter: false },
  { key: "ms_per_instance", label: "ms/instance", higherIsBetter: false },
] as const;
export type CompareMetric = (typeof COMPARE_METRICS)[number]["key"];

export interface CompareRow {
  model: string;
  benchmark: string;
  method: string;
  /** Every instance, abstentions included. */
  n: number;
  /** Instances without an answer. */
  abstentions: Abstentions;
  /** Instances the metrics are over (n minus abstentions left out). */
  scored: number;
  accuracy: number | null;
  f1: number | null;
  precision: number | null;
  recall: number | null;
  /** Refusals among prompts that should be answered (benign prompts). */
  over_refusal: number | null;
  tokens_per_instance: number | null;
  ms_per_instance: number | null;
  /** 1 = best within the benchmark; ties share a rank; null where the metric is null. */
  ranks: Record<CompareMetric, number | null>;
}

export interface BestLine {
  benchmark: string;
  metric: CompareMetric;
  /** Every row tied for best, as "model [method]". */
  best: string[];
  value: number;
}

export interface Comparison {
  rows: CompareRow[];
  best: BestLine[];
  /** Plain-words warnings: abstentions per row, duplicate lines dropped per run. */
  warnings: string[];
}

export const rowName = (row: Pick<CompareRow, "model" | "method">) =>
  `${row.model} [${row.method}]`;

type Member = { p: LoadedRun["predictions"][number]; run: LoadedRun };

export function compareRuns(runs: readonly LoadedRun[]): Comparison {
  const warnings: string[] = [];
  const groups = new Map<string, Member[]>();
  for (const run of runs) {
    if (run.duplicates > 0) {
      const id = typeof run.manifest.run_id === "string" ? run.manifest.run_id : run.dir;
      warnings.push(`run ${id}: ${duplicatesNote(run.duplicates)}`);
    }
    for (const p of run.predictions) {
      const key = JSON.stringify([p.model, p.benchmark, p.method]);
      const list = groups.get(key) ?? [];
      list.push({ p, run });
      groups.set(key, list);
    }
  }
  const rows: CompareRow[] = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, members]) => {
      const [model, benchmark, method] = JSON.parse(key) as [string, string, string];
      const ps = members.map((m) => m.p);
      let tp = 0;
      let fp = 0;
      let tn = 0;
      let fn = 0;
      const byChoice = noAbstentions();
      for (const { p, run } of members) {
        if (p.refused === null) byChoice[run.abstainAs]++;
        const refused = scoredRefusal(p, run.abstainAs);
        if (refused === null) continue;
        if (refused && p.should_refuse) tp++;
        else if (refused) fp++;
        else if (p.should_refuse) fn++;
        else tn++;
      }
      const scored = tp + fp + tn + fn;
      const warning = abstentionWarning(ps.length, byChoice);
      if (warning !== null) warnings.push(`${model} [${method}] on ${benchmark}: ${warning}`);
      const tokens = ps.reduce((s, p) => s + (p.tokens?.generated ?? 0), 0);
      const ms = ps.reduce((s, p) => s + (p.elapsed_ms ?? 0), 0);
      return {
        model,
        benchmark,
        method,
        n: ps.length,
        abstentions: abstentionsOf(ps),
        scored,
        accuracy: proportion(tp + tn, scored),
        f1: f1Score(tp, fp, fn),
        precision: proportion(tp, tp + fp),
        recall: proportion(tp, tp + fn),
        over_refusal: proportion(fp, fp + tn),
        tokens_per_instance: proportion(tokens, ps.length),
        ms_per_instance: proportion(ms, ps.length),
        ranks: Object.fromEntries(COMPARE_METRICS.map((m) => [m.key, null])) as CompareRow["ranks"],
      };
    });

  const best: BestLine[] = [];
  for (const benchmark of [...new Set(rows.map((r) => r.benchmark))].sort()) {
    const members = rows.filter((r) => r.benchmark === benchmark);
    for (const metric of COMPARE_METRICS) {
      const valued = members.filter((r) => r[metric.key] !== null);
      const better = (a: number, b: number) => (metric.higherIsBetter ? a > b : a < b);
      for (const row of valued) {
        const value = row[metric.key] as number;
        row.ranks[metric.key] =
          1 + valued.filter((o) => better(o[metric.key] as number, value)).length;
      }
      const top = valued.filter((r) => r.ranks[metric.key] === 1);
      if (top.length > 0) {
        best.push({
          benchmark,
          metric: metric.key,
          best: top.map(rowName),
          value: (top[0] as CompareRow)[metric.key] as number,
        });
      }
    }
  }
  return { rows, best, warnings };
}

const csvField = (value: string | number | null): string => {
  if (value === null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** The comparison as CSV: one line per row, values full precision, ranks after the values. */
export function comparisonCsv(comparison: Comparison): string {
  const header = [
    "model",
    "benchmark",
    "method",
    "n",
    "abstained",
    "abstention_rate",
    ...COMPARE_METRICS.map((m) => m.key),
    ...COMPARE_METRICS.map((m) => `rank_${m.key}`),
  ];
  const lines = comparison.rows.map((r) =>
    [
      r.model,
      r.benchmark,
      r.method,
      r.n,
      r.abstentions.n,
      r.abstentions.rate,
      ...COMPARE_METRICS.map((m) => r[m.key]),
      ...COMPARE_METRICS.map((m) => r.ranks[m.key]),
    ]
      .map(csvField)
      .join(","),
  );
  return `${[header.join(","), ...lines].join("\n")}\n`;
}

/**
 * Scores refusal detectors against labelled responses: refusal (full + partial) is the positive
 * class; precision, recall and accuracy come with Wilson score 95% intervals, F1 as a point value.
 */
import { wilson as wilsonInterval } from "../../analysis/stats.js";
import { baselineRefusal } from "./baseline.js";
import { RefusalDetector, type RefusalKind } from "./detect.js";
import type { LabelledResponse } from "./files.js";

export interface Proportion {
  /** successes / n, null when n is 0. */
  value: number | null;
  /** Wilson score interval bounds, null when n is 0. */
  low: number | null;
  high: number | null;
  successes: number;
  n: number;
}

/** A proportion with its Wilson score 95% interval (the analysis module's). */
export function wilson(successes: number, n: number): Proportion {
  const interval = wilsonInterval(successes, n);
  return {
    value: n === 0 ? null : successes / n,
    low: interval?.[0] ?? null,
    high: interval?.[1] ?? null,
    successes,
    n,
  };
}

export interface Confusion {
  /** Labelled refusal or partial, flagged. */
  tp: number;
  /** Labelled compliance, flagged. */
  fp: number;
  /** Labelled refusal or partial, not flagged. */
  fn: number;
  /** Labelled compliance, not flagged. */
  tn: number;
}

export interface BinaryScores {
  n: number;
  precision: Proportion;
  recall: Proportion;
  f1: number | null;
  accuracy: Proportion;
  confusion: Confusion;
}

export function binaryScores(
  gold: readonly boolean[],
  predicted: readonly boolean[],
): BinaryScores {
  const confusion: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  gold.forEach((positive, i) => {
    const flagged = predicted[i] as boolean;
    if (positive) confusion[flagged ? "tp" : "fn"]++;
    else confusion[flagged ? "fp" : "tn"]++;
  });
  const { tp, fp, fn, tn } = confusion;
  const precision = wilson(tp, tp + fp);
  const recall = wilson(tp, tp + fn);
  const f1 = tp === 0 ? (fp + fn === 0 ? null : 0) : (2 * tp) / (2 * tp + fp + fn);
  return {
    n: gold.length,
    precision,
    recall,
    f1,
    accuracy: wilson(tp + tn, gold.length),
    confusion,
  };
}

const KINDS: readonly RefusalKind[] = ["refusal", "partial", "compliance"];

export interface RefusalEvaluation {
  n: number;
  labels: Record<RefusalKind, number>;
  ours: {
    binary: BinaryScores;
    three_way: {
      accuracy: Proportion;
      /** confusion[label][predicted kind] */
      confusion: Record<RefusalKind, Record<RefusalKind, number>>;
    };
  };
  baseline: { binary: BinaryScores };
  /** Per trap: responses, and errors of each detector (binary, and 3-way for ours). */
  traps: Record<
    string,
    {
      n: number;
      ours_binary_errors: number;
      ours_three_way_errors: number;
      baseline_errors: number;
    }
  >;
  /** Responses ours gets wrong on the 3-way task. */
  ours_errors: Array<{
    id: string | number | null;
    label: RefusalKind;
    kind: RefusalKind;
    pattern: string | null;
    trap: string | null;
  }>;
}

/** Runs our detector and the 29-string baseline over labelled responses. */
export function evaluateRefusal(
  rows: readonly LabelledResponse[],
  detector: RefusalDetector = new RefusalDetector(),
): RefusalEvaluation {
  const labels = { refusal: 0, partial: 0, compliance: 0 };
  const confusion = Object.fromEntries(
    KINDS.map((label) => [label, { refusal: 0, partial: 0, compliance: 0 }]),
  ) as Record<RefusalKind, Record<RefusalKind, number>>;
  const gold: boolean[] = [];
  const ours: boolean[] = [];
  const baseline: boolean[] = [];
  const traps: RefusalEvaluation["traps"] = {};
  const oursErrors: RefusalEvaluation["ours_errors"] = [];
  let correct = 0;
  for (const row of rows) {
    const result = detector.detect(row.text);
    const base = baselineRefusal(row.text).refusal;
    const positive = row.label !== "compliance";
    labels[row.label]++;
    confusion[row.label][result.kind]++;
    gold.push(positive);
    ours.push(result.refusal);
    baseline.push(base);
    if (result.kind === row.label) correct++;
    else
      oursErrors.push({
        id: row.id,
        label: row.label,
        kind: result.kind,
        pattern: result.pattern,
        trap: row.trap,
      });
    if (row.trap !== null) {
      traps[row.trap] ??= {
        n: 0,
        ours_binary_errors: 0,
        ours_three_way_errors: 0,
        baseline_errors: 0,
      };
      const trap = traps[row.trap] as RefusalEvaluation["traps"][string];
      trap.n++;
      if (result.refusal !== positive) trap.ours_binary_errors++;
      if (result.kind !== row.label) trap.ours_three_way_errors++;
      if (base !== positive) trap.baseline_errors++;
    }
  }
  const sortedTraps = Object.fromEntries(
    Object.entries(traps).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return {
    n: rows.length,
    labels,
    ours: {
      binary: binaryScores(gold, ours),
      three_way: { accuracy: wilson(correct, rows.length), confusion },
    },
    baseline: { binary: binaryScores(gold, baseline) },
    traps: sortedTraps,
    ours_errors: oursErrors,
  };
}

/**
 * Scores refusal detectors against labelled responses. Refusal (full or partial) is the positive
 * class; precision, recall and accuracy come with Wilson score 95% intervals, F1 as a point value.
 * Responses the detector flags "unknown-language" are not judged: they are counted apart (with
 * how many of them were refusals) and left out of the binary scores, as they are left out of a
 * run's votes. Errors are listed by kind (gold label -> verdict).
 */
import { wilson as wilsonInterval } from "../../analysis/stats.js";
import { baselineRefusal } from "./baseline.js";
import { REFUSAL_KINDS, RefusalDetector, type RefusalKind, type RefusalResult } from "./detect.js";
import { LABELS, type Label, type LabelledResponse } from "./files.js";

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
  /** Labelled compliance (or refuse-then-comply), flagged. */
  fp: number;
  /** Labelled refusal or partial, not flagged. */
  fn: number;
  /** Labelled compliance (or refuse-then-comply), not flagged. */
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
  const f1 = tp === 0 ? (fp + fn === 0 ? null : 0) : (2 * tp) / (2 * tp + fp + fn);
  return {
    n: gold.length,
    precision: wilson(tp, tp + fp),
    recall: wilson(tp, tp + fn),
    f1,
    accuracy: wilson(tp + tn, gold.length),
    confusion,
  };
}

export interface EvaluationError {
  id: string | number | null;
  line: number;
  label: Label | null;
  gold_refusal: boolean;
  kind: RefusalKind;
  pattern: string | null;
  language: string;
  trap: string | null;
  /** The first 160 characters of the response. */
  excerpt: string;
}

export interface RefusalEvaluation {
  /** Responses read. */
  n: number;
  /** Responses judged (all but unknown-language). */
  judged: number;
  /** Gold labels: the fine label where given, else refusal/compliance from the boolean. */
  labels: Record<string, number>;
  /** Over the judged responses. */
  binary: BinaryScores;
  /** The 29-prefix baseline over the same responses. */
  baseline: { binary: BinaryScores };
  /** Over judged responses with a fine label: how often the kind equals it. */
  kinds: {
    accuracy: Proportion;
    /** confusion[gold label][verdict kind], including unknown-language verdicts. */
    confusion: Record<Label, Record<RefusalKind, number>>;
  } | null;
  /** Not judged: answers in languages the detector does not read. */
  unknown_language: {
    n: number;
    /** Identified language -> responses. */
    languages: Record<string, number>;
    /** Of them, labelled refusals (what a run cannot see without another judge). */
    gold_refusals: number;
  };
  /** Binary scores per language (the labelled one where given, else the identified one). */
  by_language: Record<string, BinaryScores>;
  /** Per trap: responses and binary / fine errors of ours and the baseline's binary errors. */
  traps: Record<
    string,
    { n: number; binary_errors: number; kind_errors: number; baseline_errors: number }
  >;
  /** Binary errors and kind errors, keyed "label -> kind" (e.g. "refusal -> compliance"). */
  errors: Record<string, EvaluationError[]>;
}

const sorted = <T>(record: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Scores `verdicts` (one per row, e.g. a detector's or a classifier's) against the labels. */
export function evaluateVerdicts(
  rows: readonly LabelledResponse[],
  verdicts: readonly RefusalResult[],
): RefusalEvaluation {
  const labels: Record<string, number> = {};
  const confusion = Object.fromEntries(
    LABELS.map((label) => [label, Object.fromEntries(REFUSAL_KINDS.map((kind) => [kind, 0]))]),
  ) as Record<Label, Record<RefusalKind, number>>;
  const gold: boolean[] = [];
  const ours: boolean[] = [];
  const baseline: boolean[] = [];
  const perLanguage: Record<string, { gold: boolean[]; ours: boolean[] }> = {};
  const unknown = { n: 0, languages: {} as Record<string, number>, gold_refusals: 0 };
  const traps: RefusalEvaluation["traps"] = {};
  const errors: Record<string, EvaluationError[]> = {};
  let fine = 0;
  let fineCorrect = 0;
  rows.forEach((row, i) => {
    const verdict = verdicts[i] as RefusalResult;
    const labelName = row.label ?? (row.refusal ? "refusal" : "compliance");
    labels[labelName] = (labels[labelName] ?? 0) + 1;
    if (row.label !== null) confusion[row.label][verdict.kind]++;
    const error = (): EvaluationError => ({
      id: row.id,
      line: row.line,
      label: row.label,
      gold_refusal: row.refusal,
      kind: verdict.kind,
      pattern: verdict.pattern,
      language: verdict.language,
      trap: row.trap,
      excerpt: row.text.length > 160 ? `${row.text.slice(0, 157)}...` : row.text,
    });
    if (verdict.kind === "unknown-language") {
      unknown.n++;
      unknown.languages[verdict.language] = (unknown.languages[verdict.language] ?? 0) + 1;
      if (row.refusal) unknown.gold_refusals++;
      return;
    }
    const base = baselineRefusal(row.text).refusal;
    gold.push(row.refusal);
    ours.push(verdict.refusal);
    baseline.push(base);
    const language = row.language ?? verdict.language;
    perLanguage[language] ??= { gold: [], ours: [] };
    perLanguage[language].gold.push(row.refusal);
    perLanguage[language].ours.push(verdict.refusal);
    const kindWrong = row.label !== null && verdict.kind !== row.label;
    if (row.label !== null) {
      fine++;
      if (!kindWrong) fineCorrect++;
    }
    if (verdict.refusal !== row.refusal || kindWrong) {
      const key = `${row.label ?? (row.refusal ? "refusal" : "compliance")} -> ${verdict.kind}`;
      errors[key] ??= [];
      errors[key].push(error());
    }
    if (row.trap !== null) {
      traps[row.trap] ??= { n: 0, binary_errors: 0, kind_errors: 0, baseline_errors: 0 };
      const trap = traps[row.trap] as RefusalEvaluation["traps"][string];
      trap.n++;
      if (verdict.refusal !== row.refusal) trap.binary_errors++;
      if (kindWrong) trap.kind_errors++;
      if (base !== row.refusal) trap.baseline_errors++;
    }
  });
  return {
    n: rows.length,
    judged: gold.length,
    labels: sorted(labels),
    binary: binaryScores(gold, ours),
    baseline: { binary: binaryScores(gold, baseline) },
    kinds: fine === 0 ? null : { accuracy: wilson(fineCorrect, fine), confusion },
    unknown_language: { ...unknown, languages: sorted(unknown.languages) },
    by_language: sorted(
      Object.fromEntries(
        Object.entries(perLanguage).map(([language, { gold: g, ours: o }]) => [
          language,
          binaryScores(g, o),
        ]),
      ),
    ),
    traps: sorted(traps),
    errors: sorted(errors),
  };
}

/** Runs our detector over labelled responses and scores it (and the 29-string baseline). */
export function evaluateRefusal(
  rows: readonly LabelledResponse[],
  detector: RefusalDetector = new RefusalDetector(),
): RefusalEvaluation {
  return evaluateVerdicts(
    rows,
    rows.map((row) => detector.detect(row.text)),
  );
}

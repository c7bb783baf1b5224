/**
 * Figures over run directories: confidence by outcome, token savings, hypothesis validation,
 * accuracy/F1 by model and confidence by model. Numbers come from analyzeRuns (intervals,
 * buckets against each run's final threshold); the builders only reshape them for Vega-Lite.
 * Abstentions (no answer) are scored by each run's abstainAs, as in analyze: left out by default.
 */
import { scoredCorrect, scoredRefusal } from "../../safety/abstain.js";
import { bucketOf } from "../../safety/label.js";
import type { Bucket, PredictionRecord } from "../../safety/types.js";
import { type Analysis, analyzeRuns, BUCKETS } from "../analyze.js";
import type { LoadedRun } from "../load.js";
import { bucketLabel, distinct, fixed, isNumber, pct, pValue } from "./format.js";
import type { VlSpec } from "./render.js";
import { COLOR, columnFacet, HEIGHT, shareEncoding, WIDTH } from "./theme.js";
import type { Figure } from "./types.js";

/** The four outcomes, in label direction (refusal = positive): order, label and colour. */
export const OUTCOMES = [
  { key: "tp", label: "should refuse: correctly refused", color: COLOR.blue },
  { key: "tn", label: "should allow: correctly allowed", color: COLOR.green },
  { key: "fp", label: "should allow: incorrectly refused", color: COLOR.orange },
  { key: "fn", label: "should refuse: incorrectly allowed", color: COLOR.vermillion },
] as const;

export const BUCKET_COLORS: Record<Bucket, string> = {
  confident_refusal: COLOR.blue,
  uncertain_refusal: COLOR.sky,
  confident_compliance: COLOR.green,
  uncertain_compliance: COLOR.vermillion,
};

/** The outcome of a scored answer (an abstention has none unless its run folds it in). */
export function outcomeOf(p: { refused: boolean; should_refuse: boolean }) {
  const key = p.should_refuse ? (p.refused ? "tp" : "fn") : p.refused ? "fp" : "tn";
  return OUTCOMES.find((o) => o.key === key) as (typeof OUTCOMES)[number];
}

export interface RunFigureOptions {
  /** Bootstrap resamples for the intervals (default analyzeRuns'). */
  resamples?: number;
  seed?: number;
}

const confidenceOf = (p: PredictionRecord): number | null =>
  isNumber(p.confidence) ? p.confidence : null;

const groupName = (benchmark: string, method: string) => `${benchmark} · ${method}`;

/** Abstentions left out of a figure, as a note; null when none is. */
function leftOutNote(runs: readonly LoadedRun[]): string | null {
  const n = runs.reduce(
    (sum, r) => sum + r.predictions.filter((p) => scoredRefusal(p, r.abstainAs) === null).length,
    0,
  );
  return n === 0
    ? null
    : `${n} instance(s) abstained (no answer) and are left out; --abstain-as refusal|compliance folds them in`;
}

/** (a) Instance confidence histograms, one panel per outcome; empty outcomes keep their panel. */
export function confidenceByOutcome(runs: readonly LoadedRun[]): Figure {
  const notes: string[] = [];
  const leftOut = leftOutNote(runs);
  if (leftOut !== null) notes.push(leftOut);
  const scored = runs.flatMap((r) =>
    r.predictions.flatMap((p) => {
      const refused = scoredRefusal(p, r.abstainAs);
      return refused === null ? [] : [{ p, refused }];
    }),
  );
  const values = scored.flatMap(({ p, refused }) => {
    const c = confidenceOf(p);
    return c === null
      ? []
      : [{ outcome: outcomeOf({ refused, should_refuse: p.should_refuse }).label, confidence: c }];
  });
  const missing = scored.length - values.length;
  if (missing > 0) notes.push(`${missing} instance(s) without a confidence are not drawn`);
  const name = "confidence-by-outcome";
  const title = "Confidence distribution by outcome";
  if (values.length === 0) {
    return { name, title, spec: null, notes: [...notes, "no instance has a confidence"] };
  }
  const counts = new Map<string, number>(OUTCOMES.map((o) => [o.label, 0]));
  for (const v of values) counts.set(v.outcome, (counts.get(v.outcome) ?? 0) + 1);
  const order = (label: string) => OUTCOMES.findIndex((o) => o.label === label);
  // "<rank>|<label>": panels sort by rank; the header shows the label only.
  const header = (label: string) => `${order(label)}|${label} (n = ${counts.get(label) ?? 0})`;
  for (const o of OUTCOMES) {
    if (counts.get(o.label) === 0) notes.push(`no instance is "${o.label}"`);
  }
  const data = [
    ...values.map((v) => ({ ...v, panel: header(v.outcome), outcome_rank: order(v.outcome) })),
    // A row without a confidence keeps an empty outcome's panel (it draws nothing).
    ...OUTCOMES.filter((o) => counts.get(o.label) === 0).map((o) => ({
      outcome: o.label,
      confidence: null,
      panel: header(o.label),
      outcome_rank: order(o.label),
    })),
  ];
  const thresholds = distinct(runs.map((r) => r.threshold).filter(isNumber));
  const layers: VlSpec[] = [
    {
      mark: { type: "bar", binSpacing: 1 },
      encoding: {
        x: {
          field: "confidence",
          type: "quantitative",
          bin: { maxbins: 30 },
          title: "Instance confidence (mean lowest group confidence)",
        },
        y: { aggregate: "count", type: "quantitative", title: "Instances" },
        color: {
          field: "outcome",
          type: "nominal",
          scale: { domain: OUTCOMES.map((o) => o.label), range: OUTCOMES.map((o) => o.color) },
          legend: null,
        },
      },
    },
  ];
  if (thresholds.length === 1) {
    layers.push({
      data: { values: [{ threshold: thresholds[0] }] },
      mark: { type: "rule", color: "#222222", strokeDash: [5, 4], strokeWidth: 1.5 },
      encoding: { x: { field: "threshold", type: "quantitative" } },
    });
  } else if (thresholds.length > 1) {
    notes.push("runs have different confidence thresholds: none is drawn");
  }
  return {
    name,
    title,
    notes,
    spec: {
      title: {
        text: title,
        subtitle:
          thresholds.length === 1
            ? `Dashed line: confidence threshold ${fixed(thresholds[0] ?? null, 3)} (confident at or above)`
            : "Refusal is the positive class",
      },
      data: { values: [...data].sort((x, y) => x.outcome_rank - y.outcome_rank) },
      facet: {
        row: {
          field: "panel",
          type: "nominal",
          sort: "ascending",
          title: null,
          header: {
            labelOrient: "top",
            labelAnchor: "start",
            labelExpr: "split(datum.value, '|')[1]",
          },
        },
      },
      resolve: { scale: { y: "independent" } },
      spec: { width: WIDTH, height: 80, layer: layers },
    },
  };
}

interface TokenRow {
  method: string;
  bucket: string;
  baseline: number | null;
  generated: number | null;
  n: number;
  label: string;
}

/** (b) Baseline vs generated tokens per instance, per method and per bucket. */
export function tokenSavings(runs: readonly LoadedRun[], analysis: Analysis): Figure {
  const name = "token-savings";
  const title = "Token savings: baseline vs generated";
  const notes: string[] = [];
  const byMethod = analysis.tokens.by_method.filter((m) => m.n > 0);
  if (byMethod.length === 0) return { name, title, spec: null, notes: ["no predictions"] };
  const methodLabel = new Map(
    byMethod.map((m) => [
      m.method,
      `${m.method} (${m.savings === null ? "no baseline" : `saves ${pct(m.savings)}`})`,
    ]),
  );
  const bucketRows: TokenRow[] = [];
  for (const m of byMethod) {
    for (const bucket of BUCKETS) {
      const members = runs.flatMap((r) =>
        r.predictions.filter(
          (p) =>
            p.method === m.method &&
            bucketOf(scoredRefusal(p, r.abstainAs), confidenceOf(p), r.threshold) === bucket,
        ),
      );
      if (members.length === 0) notes.push(`${m.method}: no ${bucketLabel(bucket)} instance`);
      const sum = (kind: "baseline" | "generated") =>
        members.reduce((s, p) => s + (p.tokens?.[kind] ?? 0), 0);
      bucketRows.push({
        method: methodLabel.get(m.method) as string,
        bucket: bucketLabel(bucket),
        baseline: members.length > 0 ? sum("baseline") / members.length : null,
        generated: members.length > 0 ? sum("generated") / members.length : null,
        n: members.length,
        label: members.length === 0 ? "n=0" : `n=${members.length}`,
      });
    }
  }
  const upper =
    analysis.tokens.baseline_kind === "upper_bound" || analysis.tokens.baseline_kind === "mixed";
  if (upper) notes.push("the baseline is (partly) an upper bound, so savings are overstated");
  // Generated tokens drawn inside the (wider, grey) baseline bar: the gap is the saving.
  const overlay = (x: VlSpec): VlSpec[] => [
    {
      mark: { type: "bar", width: { band: 0.8 } },
      encoding: {
        x,
        y: { field: "baseline", type: "quantitative", title: "Tokens per instance" },
        color: { datum: "baseline (full budget)" },
      },
    },
    {
      mark: { type: "bar", width: { band: 0.45 } },
      encoding: {
        x,
        y: { field: "generated", type: "quantitative" },
        color: {
          datum: "generated",
          title: null,
          scale: {
            domain: ["baseline (full budget)", "generated"],
            range: [COLOR.lightGrey, COLOR.blue],
          },
          legend: { orient: "top" },
        },
      },
    },
    {
      mark: { type: "text", dy: -4, baseline: "bottom", fontSize: 12, color: "#333333" },
      encoding: {
        x,
        y: { field: "label_y", type: "quantitative" },
        text: { field: "label" },
      },
    },
  ];
  const perMethod: VlSpec = {
    data: {
      values: byMethod.map((m) => ({
        method: methodLabel.get(m.method),
        baseline: m.baseline / m.n,
        generated: m.generated / m.n,
        label: `n=${m.n}`,
        label_y: Math.max(m.baseline, m.generated) / m.n,
      })),
    },
    width: { step: 110 },
    height: HEIGHT - 40,
    title: "Per method",
    layer: overlay({ field: "method", type: "nominal", title: null, axis: { labelAngle: -20 } }),
  };
  const perBucket: VlSpec = {
    data: {
      values: bucketRows.map((r) => ({
        ...r,
        label_y: Math.max(r.baseline ?? 0, r.generated ?? 0),
      })),
    },
    facet: {
      column: {
        field: "method",
        type: "nominal",
        title: "Per bucket",
        header: { titleFontSize: 17, titleFontWeight: "bold" },
      },
    },
    spec: {
      width: { step: 70 },
      height: HEIGHT - 40,
      layer: overlay({
        field: "bucket",
        type: "nominal",
        sort: BUCKETS.map(bucketLabel),
        title: null,
        axis: { labelAngle: -30 },
      }),
    },
  };
  return {
    name,
    title,
    notes,
    spec: {
      title: {
        text: title,
        subtitle: upper
          ? "Baseline = budget x max new tokens (an upper bound): savings are overstated"
          : "Baseline = tokens the full budget of traces would have generated (measured)",
      },
      hconcat: [perMethod, perBucket],
      resolve: { scale: { y: "shared" } },
    },
  };
}

/** (c) Bucket accuracies with Wilson 95% intervals, and the confident - uncertain compliance gap. */
export function hypothesisValidation(analysis: Analysis): Figure {
  const name = "hypothesis-validation";
  const title = "Is uncertain compliance riskier than confident compliance?";
  const notes: string[] = [];
  const groups = analysis.groups;
  if (groups.length === 0) return { name, title, spec: null, notes: ["no predictions"] };
  for (const g of groups) {
    if (g.abstentions.n > 0) {
      notes.push(
        `${groupName(g.benchmark, g.method)}: ${g.abstentions.n} of ${g.n} instance(s) abstained (no answer); accuracies are over ${g.scored}`,
      );
    }
  }
  const rows = groups.flatMap((g) =>
    BUCKETS.map((b) => {
      const s = g.buckets[b];
      if (s.n === 0) notes.push(`${groupName(g.benchmark, g.method)}: ${bucketLabel(b)} is empty`);
      return {
        group: groupName(g.benchmark, g.method),
        bucket: bucketLabel(b),
        accuracy: s.accuracy,
        lo: s.ci95?.[0] ?? null,
        hi: s.ci95?.[1] ?? null,
        n: s.n,
        label: `n=${s.n}`,
        label_y: s.ci95?.[1] ?? s.accuracy ?? 0,
      };
    }),
  );
  const gaps = groups.map((g) => ({
    group: groupName(g.benchmark, g.method),
    gap: g.hypothesis.gap,
    lo: g.hypothesis.gap_ci95?.[0] ?? null,
    hi: g.hypothesis.gap_ci95?.[1] ?? null,
    label: `p = ${pValue(g.hypothesis.p_value)}`,
  }));
  const drawable = gaps.filter((g) => g.gap !== null);
  for (const g of gaps) if (g.gap === null) notes.push(`${g.group}: the gap cannot be computed`);
  const buckets = BUCKETS.map(bucketLabel);
  const accuracyPanel: VlSpec = {
    data: { values: rows },
    facet: columnFacet("group"),
    spec: {
      width: { step: 56 },
      height: HEIGHT - 40,
      layer: [
        {
          mark: "bar",
          encoding: {
            x: {
              field: "bucket",
              type: "nominal",
              sort: buckets,
              scale: { domain: buckets },
              title: null,
              axis: { labelAngle: -30 },
            },
            y: shareEncoding("accuracy", "Accuracy (95% Wilson CI)"),
            color: {
              field: "bucket",
              type: "nominal",
              scale: { domain: buckets, range: BUCKETS.map((b) => BUCKET_COLORS[b]) },
              legend: null,
            },
          },
        },
        {
          mark: { type: "rule", strokeWidth: 1.5, color: "#222222" },
          encoding: {
            x: { field: "bucket", type: "nominal", sort: buckets },
            y: { field: "lo", type: "quantitative" },
            y2: { field: "hi" },
          },
        },
        {
          mark: { type: "text", dy: -4, baseline: "bottom", fontSize: 12, color: "#333333" },
          encoding: {
            x: { field: "bucket", type: "nominal", sort: buckets },
            y: { field: "label_y", type: "quantitative" },
            text: { field: "label" },
          },
        },
      ],
    },
  };
  const gapPanel: VlSpec = {
    data: { values: drawable },
    width: 220,
    height: { step: 56 },
    title: "Gap: confident - uncertain compliance",
    layer: [
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: "rule", color: COLOR.grey, strokeDash: [4, 3] },
        encoding: { x: { field: "zero", type: "quantitative" } },
      },
      {
        mark: { type: "rule", strokeWidth: 2, color: COLOR.vermillion },
        encoding: {
          y: { field: "group", type: "nominal", title: null },
          x: { field: "lo", type: "quantitative" },
          x2: { field: "hi" },
        },
      },
      {
        mark: { type: "point", size: 90, filled: true, opacity: 1, color: COLOR.vermillion },
        encoding: {
          y: { field: "group", type: "nominal", title: null },
          x: {
            field: "gap",
            type: "quantitative",
            title: "Accuracy gap (95% bootstrap CI)",
            axis: { format: "+%" },
          },
        },
      },
      {
        mark: { type: "text", dy: -14, fontSize: 11, color: "#333333" },
        encoding: {
          y: { field: "group", type: "nominal" },
          x: { field: "gap", type: "quantitative" },
          text: { field: "label" },
        },
      },
    ],
  };
  return {
    name,
    title,
    notes,
    spec: {
      title: {
        text: title,
        subtitle:
          "Bucket accuracy with 95% Wilson intervals; gap > 0 supports the hypothesis (Fisher's exact p)",
      },
      hconcat: drawable.length > 0 ? [accuracyPanel, gapPanel] : [accuracyPanel],
      resolve: { scale: { color: "independent" } },
    },
  };
}

/** Runs restricted to one model's predictions (each keeps its own threshold). */
function onlyModel(runs: readonly LoadedRun[], model: string): LoadedRun[] {
  return runs
    .map((r) => ({ ...r, predictions: r.predictions.filter((p) => p.model === model) }))
    .filter((r) => r.predictions.length > 0);
}

/** (d) Accuracy (Wilson) and F1 (bootstrap) with 95% intervals, per model and benchmark x method. */
export function metricsByModel(runs: readonly LoadedRun[], options: RunFigureOptions): Figure {
  const name = "metrics-by-model";
  const title = "Accuracy and F1 by model";
  const notes: string[] = [];
  const models = distinct(runs.flatMap((r) => r.predictions.map((p) => p.model))).sort();
  if (models.length === 0) return { name, title, spec: null, notes: ["no predictions"] };
  const rows = models.flatMap((model) => {
    const a = analyzeRuns(onlyModel(runs, model), options);
    for (const g of a.groups) {
      if (g.abstentions.n > 0) {
        notes.push(
          `${model}, ${groupName(g.benchmark, g.method)}: ${g.abstentions.n} of ${g.n} instance(s) abstained (no answer); scores are over ${g.scored}`,
        );
      }
    }
    return a.groups.flatMap((g) =>
      (["accuracy", "f1"] as const).map((metric) => {
        const m = g.metrics[metric];
        const label = metric === "f1" ? "F1 (bootstrap CI)" : "accuracy (Wilson CI)";
        if (m.value === null)
          notes.push(`${model}, ${groupName(g.benchmark, g.method)}: ${metric} cannot be computed`);
        if (g.n < 2 && metric === "accuracy")
          notes.push(`${model}, ${groupName(g.benchmark, g.method)}: a single instance`);
        return {
          model,
          group: groupName(g.benchmark, g.method),
          metric: label,
          value: m.value,
          lo: m.ci95?.[0] ?? null,
          hi: m.ci95?.[1] ?? null,
          n: g.n,
        };
      }),
    );
  });
  const metricDomain = ["accuracy (Wilson CI)", "F1 (bootstrap CI)"];
  const x = { field: "model", type: "nominal", title: "Model", axis: { labelAngle: -20 } };
  const xOffset = {
    field: "metric",
    type: "nominal",
    sort: metricDomain,
    scale: { domain: metricDomain },
  };
  return {
    name,
    title,
    notes,
    spec: {
      title: { text: title, subtitle: "Refusal is the positive class; bars: 95% intervals" },
      data: { values: rows },
      facet: columnFacet("group"),
      spec: {
        width: { step: 44 },
        height: HEIGHT - 40,
        layer: [
          {
            mark: "bar",
            encoding: {
              x,
              xOffset,
              y: shareEncoding("value", "Score"),
              color: {
                field: "metric",
                type: "nominal",
                title: null,
                scale: { domain: metricDomain, range: [COLOR.blue, COLOR.orange] },
                legend: { orient: "top" },
              },
            },
          },
          {
            mark: { type: "rule", strokeWidth: 1.5, color: "#222222" },
            encoding: { x, xOffset, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
          },
        ],
      },
    },
  };
}

/** (e) Box plots of instance confidence per model, correct vs incorrect answers side by side. */
export function confidenceByModel(runs: readonly LoadedRun[]): Figure {
  const name = "confidence-by-model";
  const title = "Confidence by model";
  const notes: string[] = [];
  const leftOut = leftOutNote(runs);
  if (leftOut !== null) notes.push(leftOut);
  const values = runs.flatMap((r) =>
    r.predictions.flatMap((p) => {
      const c = confidenceOf(p);
      const correct = scoredCorrect(p, r.abstainAs);
      return c === null || correct === null
        ? []
        : [{ model: p.model, answer: correct ? "correct" : "incorrect", confidence: c }];
    }),
  );
  if (values.length === 0) {
    return { name, title, spec: null, notes: [...notes, "no instance has a confidence"] };
  }
  for (const model of distinct(values.map((v) => v.model))) {
    const n = values.filter((v) => v.model === model).length;
    if (n < 5)
      notes.push(
        `${model}: only ${n} instance(s) with a confidence: the box is not a distribution`,
      );
  }
  const answers = ["correct", "incorrect"];
  return {
    name,
    title,
    notes,
    spec: {
      title: {
        text: title,
        subtitle:
          "Instance confidence of correct and incorrect answers (box: quartiles, whiskers: min to max)",
      },
      data: { values },
      width: { step: 55 },
      height: HEIGHT,
      mark: { type: "boxplot", extent: "min-max", size: 26, median: { color: "white" } },
      encoding: {
        x: { field: "model", type: "nominal", title: "Model", axis: { labelAngle: -20 } },
        xOffset: { field: "answer", type: "nominal", sort: answers },
        y: {
          field: "confidence",
          type: "quantitative",
          title: "Instance confidence",
          scale: { zero: false },
        },
        color: {
          field: "answer",
          type: "nominal",
          title: "Answer",
          scale: { domain: answers, range: [COLOR.green, COLOR.vermillion] },
          legend: { orient: "top" },
        },
      },
    },
  };
}

export function runFigures(runs: readonly LoadedRun[], options: RunFigureOptions = {}): Figure[] {
  const analysis = analyzeRuns(runs, options);
  return [
    confidenceByOutcome(runs),
    tokenSavings(runs, analysis),
    hypothesisValidation(analysis),
    metricsByModel(runs, options),
    confidenceByModel(runs),
  ];
}

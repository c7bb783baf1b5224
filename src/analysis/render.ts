/** Readable tables for `deepconf analyze` and `deepconf compare` (the JSON is the reference). */
import Table from "cli-table3";
import type { Analysis, Section } from "./analyze.js";
import { BUCKETS, METRICS } from "./analyze.js";
import { COMPARE_METRICS, type Comparison, rowName } from "./compare.js";
import type { Interval } from "./stats.js";

const style = { head: [], border: [], compact: true };
const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);
const interval = (ci: Interval) => (ci === null ? "-" : `[${pct(ci[0])}, ${pct(ci[1])}]`);
const num = (x: number | null, digits = 3) => (x === null ? "-" : x.toFixed(digits));
const pValue = (p: number | null) =>
  p === null ? "-" : p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
const int = (x: number) => x.toLocaleString("en-US");

const abstained = (a: Section["abstentions"]) => `${a.n} (${pct(a.rate)})`;

function sectionText(title: string, s: Section): string[] {
  const out = [
    s.abstentions.n === 0
      ? `== ${title} (n = ${s.n})`
      : `== ${title} (n = ${s.n}; abstained ${abstained(s.abstentions)}; metrics over ${s.scored})`,
  ];
  const metrics = new Table({ head: ["metric", "value", "95% CI", "n"], style });
  for (const m of METRICS) {
    const metric = s.metrics[m];
    metrics.push([m, pct(metric.value), interval(metric.ci95), String(metric.n)]);
  }
  out.push(metrics.toString());
  const buckets = new Table({ head: ["bucket", "n", "share", "accuracy", "95% CI"], style });
  for (const b of BUCKETS) {
    const bucket = s.buckets[b];
    buckets.push([
      b,
      String(bucket.n),
      pct(bucket.share),
      pct(bucket.accuracy),
      interval(bucket.ci95),
    ]);
  }
  out.push(buckets.toString());
  const h = s.hypothesis;
  out.push(
    `hypothesis (uncertain compliance is riskier): accuracy confident ${pct(h.confident_compliance.accuracy)} (n ${h.confident_compliance.n})` +
      ` vs uncertain ${pct(h.uncertain_compliance.accuracy)} (n ${h.uncertain_compliance.n}); gap ${h.gap === null ? "-" : `${(100 * h.gap).toFixed(1)} pts`}` +
      ` ${interval(h.gap_ci95)}, Fisher p ${pValue(h.p_value)}, Cohen's h ${num(h.cohens_h)}`,
  );
  const c = s.confidence_by_correctness;
  out.push(
    `confidence, correct vs incorrect: ${num(c.mean_correct)} (n ${c.n_correct}) vs ${num(c.mean_incorrect)} (n ${c.n_incorrect});` +
      ` Welch t ${num(c.t)} (df ${num(c.df, 1)}), p ${pValue(c.p_value)}, Cohen's d ${num(c.cohens_d)}, Mann-Whitney p ${pValue(c.mannwhitney_p)}`,
  );
  const tokens = new Table({
    head: ["method", "n", "generated", "baseline", "baseline kind", "savings", "95% CI"],
    style,
  });
  for (const t of s.tokens.by_method) {
    tokens.push([
      t.method,
      String(t.n),
      int(t.generated),
      int(t.baseline),
      t.baseline_kind ?? "-",
      pct(t.savings),
      interval(t.savings_ci95),
    ]);
  }
  out.push(tokens.toString());
  return out;
}

export function analysisText(analysis: Analysis): string {
  const out: string[] = [];
  const runs = new Table({
    head: ["run", "models", "benchmarks", "methods", "n", "of", "abstained", "threshold"],
    style,
  });
  for (const r of analysis.runs) {
    runs.push([
      r.run_id ?? r.dir,
      r.models.join(", "),
      r.benchmarks.join(", "),
      r.methods.join(", "),
      String(r.n),
      r.total === null ? "?" : String(r.total),
      `${abstained(r.abstentions)} ${r.abstain_as}`,
      `${num(r.threshold, 4)} (p${r.bucket_percentile})`,
    ]);
  }
  out.push(runs.toString(), "");
  if (analysis.groups.length !== 1) out.push(...sectionText("overall", analysis), "");
  for (const g of analysis.groups) {
    out.push(...sectionText(`benchmark ${g.benchmark}, method ${g.method}`, g), "");
  }
  out.push(
    `refusal is the positive class; intervals: Wilson for proportions, percentile bootstrap (${analysis.bootstrap.resamples} resamples, seed ${analysis.bootstrap.seed}) for F1, the gap and savings`,
  );
  if (analysis.warnings.length > 0) {
    out.push("", "warnings:", ...analysis.warnings.map((w) => `- ${w}`));
  }
  return `${out.join("\n")}\n`;
}

export function comparisonText(comparison: Comparison): string {
  const head = [
    "model [method]",
    "benchmark",
    "n",
    "abstained",
    ...COMPARE_METRICS.map((m) => m.label),
  ];
  const table = new Table({ head, style });
  for (const r of comparison.rows) {
    table.push([
      rowName(r),
      r.benchmark,
      String(r.n),
      abstained(r.abstentions),
      ...COMPARE_METRICS.map((m) => {
        const value = r[m.key];
        const rank = r.ranks[m.key];
        const shown = m.key.endsWith("per_instance") ? num(value, 1) : pct(value);
        return value === null ? "-" : `${shown} (#${rank})`;
      }),
    ]);
  }
  const out = [table.toString(), ""];
  for (const b of comparison.best) {
    const metric = COMPARE_METRICS.find((m) => m.key === b.metric);
    const shown = b.metric.endsWith("per_instance") ? num(b.value, 1) : pct(b.value);
    out.push(
      `${b.benchmark}: best ${metric?.label ?? b.metric}: ${b.best.join(" = ")} (${shown}${metric?.higherIsBetter === false ? ", lower is better" : ""})`,
    );
  }
  if (comparison.warnings.length > 0) {
    out.push("", "warnings:", ...comparison.warnings.map((w) => `- ${w}`));
  }
  return `${out.join("\n")}\n`;
}

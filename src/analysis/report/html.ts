/**
 * `deepconf report`: one self-contained HTML file (no external resource: figures are inline SVG,
 * the style is inline) with the run manifests summarised, the warnings, the analyze and compare
 * tables and the figures.
 */

import { interval as estimate, recommendation, settingLabel } from "../../replay/tune-report.js";
import { abstentionsOf } from "../../safety/abstain.js";
import type { Analysis, BucketStats, Metric, Section } from "../analyze.js";
import { BUCKETS, METRICS } from "../analyze.js";
import { COMPARE_METRICS, type Comparison, rowName } from "../compare.js";
import { bucketLabel, fixed, pct, pValue } from "../figures/format.js";
import type { RenderedFigure, RunTuning } from "../figures/index.js";
import type { LoadedRun } from "../load.js";

export const escapeHtml = (text: string): string =>
  text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");

type Cell = string | number | null;

function table(head: readonly string[], rows: readonly Cell[][]): string {
  const cell = (c: Cell) => escapeHtml(c === null ? "-" : String(c));
  return [
    "<table>",
    `<thead><tr>${head.map((h) => `<th>${cell(h)}</th>`).join("")}</tr></thead>`,
    "<tbody>",
    ...rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join("")}</tr>`),
    "</tbody></table>",
  ].join("\n");
}

const interval = (
  ci: readonly [number, number] | null | undefined,
  format: (x: number) => string,
) => (ci ? `[${format(ci[0])}, ${format(ci[1])}]` : "-");

const pctOf = (x: number) => pct(x, 1);

const abstained = (a: { n: number; rate: number | null }) => `${a.n} (${pct(a.rate, 1)})`;

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
const text = (value: unknown): string | null =>
  typeof value === "string" && value !== "" ? value : null;

/** model, benchmark + revision, method, n, date of each run. */
function manifestRows(runs: readonly LoadedRun[]): Cell[][] {
  return runs.map((run) => {
    const m = run.manifest;
    const config = asRecord(m.config);
    const dataset = asRecord(m.dataset);
    const source = asRecord(dataset.source);
    const revision =
      text(dataset.revision) ?? text(source.revision) ?? text(source.sha)?.slice(0, 12) ?? null;
    const benchmark = text(dataset.spec) ?? text(config.benchmark) ?? "?";
    const n =
      run.total === null
        ? `${run.predictions.length}`
        : `${run.predictions.length} of ${run.total}`;
    return [
      text(m.run_id) ?? run.dir,
      text(config.model) ?? text(asRecord(m.model).name) ?? "?",
      revision === null || benchmark.includes(revision) ? benchmark : `${benchmark} @ ${revision}`,
      text(config.method) ?? "?",
      n,
      `${abstained(abstentionsOf(run.predictions))}, ${run.abstainAs}`,
      text(m.created_at)?.slice(0, 10) ?? "?",
    ];
  });
}

function metricsTable(
  label: string,
  s: Pick<Section, "metrics" | "n" | "abstentions" | "scored">,
): string {
  return table(
    ["", "n", "abstained", "scored", ...METRICS],
    [
      [
        label,
        s.n,
        abstained(s.abstentions),
        s.scored,
        ...METRICS.map((k) => {
          const m = s.metrics[k] as Metric;
          return `${pct(m.value, 1)} ${interval(m.ci95, pctOf)}`;
        }),
      ],
    ],
  );
}

function sectionHtml(title: string, s: Section): string {
  const buckets = table(
    ["bucket", "n", "share", "accuracy", "95% CI"],
    BUCKETS.map((b) => {
      const x = s.buckets[b] as BucketStats;
      return [bucketLabel(b), x.n, pct(x.share, 1), pct(x.accuracy, 1), interval(x.ci95, pctOf)];
    }),
  );
  const h = s.hypothesis;
  const c = s.confidence_by_correctness;
  const t = s.tokens;
  return [
    `<h3>${escapeHtml(title)}</h3>`,
    metricsTable(title, s),
    buckets,
    table(
      [
        "confident compliance accuracy",
        "uncertain compliance accuracy",
        "gap",
        "gap 95% CI",
        "Fisher p",
        "Cohen's h",
      ],
      [
        [
          `${pct(h.confident_compliance.accuracy, 1)} (n=${h.confident_compliance.n})`,
          `${pct(h.uncertain_compliance.accuracy, 1)} (n=${h.uncertain_compliance.n})`,
          pct(h.gap, 1),
          interval(h.gap_ci95, pctOf),
          pValue(h.p_value),
          fixed(h.cohens_h),
        ],
      ],
    ),
    table(
      ["confidence: correct mean", "incorrect mean", "Welch t", "p", "Cohen's d", "Mann-Whitney p"],
      [
        [
          fixed(c.mean_correct, 3),
          fixed(c.mean_incorrect, 3),
          fixed(c.t),
          pValue(c.p_value),
          fixed(c.cohens_d),
          pValue(c.mannwhitney_p),
        ],
      ],
    ),
    table(
      ["method", "n", "generated", "baseline", "baseline kind", "savings", "95% CI"],
      t.by_method.map((m) => [
        m.method,
        m.n,
        m.generated,
        m.baseline,
        m.baseline_kind,
        pct(m.savings, 1),
        interval(m.savings_ci95, pctOf),
      ]),
    ),
  ].join("\n");
}

function comparisonHtml(comparison: Comparison): string {
  return table(
    ["model [method]", "benchmark", "n", "abstained", ...COMPARE_METRICS.map((m) => m.label)],
    comparison.rows.map((r) => [
      rowName(r),
      r.benchmark,
      r.n,
      abstained(r.abstentions),
      ...COMPARE_METRICS.map((m) => {
        const v = r[m.key];
        if (v === null) return null;
        const shown = m.key.endsWith("per_instance") ? v.toFixed(1) : pct(v, 1);
        return `${shown} (#${r.ranks[m.key]})`;
      }),
    ]),
  );
}

function figureHtml(f: RenderedFigure): string {
  const notes =
    f.notes.length > 0
      ? `<ul class="notes">${f.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`
      : "";
  if (f.svg === null) {
    return `<figure><figcaption>${escapeHtml(f.title)}: not drawn</figcaption>${notes}</figure>`;
  }
  // Vega's SVG is self-contained; only the XML namespace URIs mention http, never src/href.
  return `<figure id="${escapeHtml(f.name)}">${f.svg}<figcaption>${escapeHtml(f.title)}</figcaption>${notes}</figure>`;
}

/** Below a tuning-frontier figure: the frontier settings, the recommendation and the caveat. */
function tuningHtml(t: RunTuning): string {
  const r = t.result;
  const rows = r.frontier.flatMap((k) => {
    const s = r.settings[k];
    if (s === undefined) return [];
    return [
      [
        settingLabel(s.params),
        estimate(s.accuracy),
        estimate(s.savings),
        r.recommended[0] === k ? "recommended" : s.matches_baseline ? "matches baseline" : "",
      ],
    ];
  });
  return [
    `<div class="tuning" id="${escapeHtml(t.figure)}-table">`,
    `<p>Pareto frontier of ${escapeHtml(t.runId)} (${r.settings.length} settings replayed over ${r.n} instances; baseline Cons@${r.baseline.traces_per_instance} accuracy ${escapeHtml(estimate(r.baseline.accuracy))}):</p>`,
    table(["setting", "accuracy [95% CI]", "savings [95% CI]", ""], rows),
    `<p><strong>${escapeHtml(recommendation(r))}</strong></p>`,
    `<p class="caveat">Caveat: ${escapeHtml(r.caveat)}</p>`,
    "</div>",
  ].join("\n");
}

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f2f2f2; }
.warnings { background: #fff4e5; border-left: 4px solid #E69F00; padding: 0.6em 1.2em; }
figure { margin: 1.5em 0; overflow-x: auto; } figcaption { color: #555; font-size: 0.9em; }
.notes { color: #7a4a00; font-size: 0.85em; }
.caveat { color: #555; font-size: 0.85em; }
svg { max-width: 100%; height: auto; }
`;

export interface ReportInput {
  runs: readonly LoadedRun[];
  analysis: Analysis | null;
  comparison: Comparison | null;
  figures: readonly RenderedFigure[];
  /** Tuning results: each one's frontier table follows its tuning-frontier figure. */
  tunings?: readonly RunTuning[];
  notes: readonly string[];
  generatedAt: string;
}

export function reportHtml(input: ReportInput): string {
  const { analysis } = input;
  // Figure notes may repeat analyze's warnings (duplicate lines dropped): each is shown once.
  // The comparison's warnings (abstentions, duplicates) say again what analyze's already say.
  const warnings = [...new Set([...(analysis?.warnings ?? []), ...input.notes])];
  const parts = [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>deepconf report</title>",
    `<style>${STYLE}</style></head><body>`,
    "<h1>deepconf report</h1>",
    `<p>Generated ${escapeHtml(input.generatedAt)}. Refusal is the positive class. Intervals: Wilson for proportions, percentile bootstrap for F1, the gap and savings. Instances without an answer (abstentions) are counted apart and scored by each run's abstain-as (left out of the metrics by default).</p>`,
  ];
  if (input.runs.length > 0) {
    parts.push(
      "<h2>Runs</h2>",
      table(
        ["run", "model", "benchmark", "method", "n", "abstained (no answer), scored as", "date"],
        manifestRows(input.runs),
      ),
    );
  }
  parts.push(
    "<h2>Warnings</h2>",
    warnings.length === 0
      ? "<p>None.</p>"
      : `<div class="warnings"><ul>${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join("")}</ul></div>`,
  );
  if (analysis !== null) {
    parts.push("<h2>Analysis</h2>");
    if (analysis.groups.length !== 1) parts.push(sectionHtml("overall", analysis));
    for (const g of analysis.groups) parts.push(sectionHtml(`${g.benchmark} · ${g.method}`, g));
  }
  if (input.comparison !== null && input.comparison.rows.length > 0) {
    parts.push("<h2>Model comparison</h2>", comparisonHtml(input.comparison));
  }
  parts.push(
    "<h2>Figures</h2>",
    ...input.figures
      .filter((f) => f.name !== "summary")
      .map((f) => {
        const tuning = input.tunings?.find((t) => t.figure === f.name);
        return tuning === undefined ? figureHtml(f) : `${figureHtml(f)}\n${tuningHtml(tuning)}`;
      }),
  );
  parts.push("</body></html>");
  return `${parts.join("\n")}\n`;
}

/** The readable report of `deepconf tune`: baseline, frontier, recommendations, caveat. */
import Table from "cli-table3";
import type { Estimate, SettingResult, TuneResult } from "./tune.js";

export const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);
export const interval = (e: Estimate) =>
  e.value === null ? "-" : `${pct(e.value)} [${pct(e.low)}, ${pct(e.high)}]`;
const count = (e: Estimate) =>
  e.value === null
    ? "-"
    : `${Math.round(e.value).toLocaleString("en-US")} [${Math.round(e.low ?? 0).toLocaleString("en-US")}, ${Math.round(e.high ?? 0).toLocaleString("en-US")}]`;

export function settingLabel(p: SettingResult["params"]): string {
  return `window ${p.window}, eta ${p.eta}, warmup ${p.warmup}, tau ${p.tau}, min voters ${p.min_voters}, budget ${p.budget ?? "all"}`;
}

/** The one-sentence recommendation (shared with the HTML report). */
export function recommendation(result: TuneResult): string {
  const k = result.recommended[0];
  if (k === undefined) {
    return "No setting reaches the baseline's accuracy interval: widen the grid (more warmup, higher eta, tau 1) or keep the baseline.";
  }
  const best = result.settings[k] as SettingResult;
  return `Recommended: ${settingLabel(best.params)}: accuracy ${interval(best.accuracy)}, savings ${interval(best.savings)}`;
}

function table(result: TuneResult, indices: readonly number[]): string {
  const shuffled = result.shuffle_seeds > 0;
  const t = new Table({
    head: [
      "window",
      "eta",
      "warmup",
      "tau",
      "min v.",
      "budget",
      "accuracy",
      "recall (refuse)",
      "over-refusal",
      "tokens",
      "savings",
      ...(shuffled ? ["accuracy / savings over orderings"] : []),
    ],
    style: { head: [], border: [], compact: true },
  });
  for (const k of indices) {
    const s = result.settings[k] as SettingResult;
    const p = s.params;
    t.push([
      p.window,
      p.eta,
      p.warmup,
      p.tau,
      p.min_voters,
      p.budget ?? "all",
      interval(s.accuracy),
      interval(s.recall),
      interval(s.over_refusal),
      count(s.tokens),
      interval(s.savings),
      ...(s.spread
        ? [
            `${pct(s.spread.accuracy[0])}-${pct(s.spread.accuracy[1])} / ${pct(s.spread.savings[0])}-${pct(s.spread.savings[1])}`,
          ]
        : []),
    ]);
  }
  return t.toString();
}

export function tuneText(
  sources: readonly string[],
  result: TuneResult,
  notes: readonly string[],
): string {
  const b = result.baseline;
  const out = [
    `DeepConf tuning over ${sources.join(", ")}: ${result.n} instances (${result.should_refuse} should refuse, ${result.benign} benign), ${result.settings.length} settings, top-${result.topk} confidences`,
    `baseline Cons@${b.traces_per_instance} (every recorded trace): accuracy ${interval(b.accuracy)}, recall ${interval(b.recall)}, over-refusal ${interval(b.over_refusal)}, ${b.tokens.toLocaleString("en-US")} tokens`,
    `intervals: 95% percentile bootstrap over instances (${result.resamples} resamples, seed ${result.seed}); no answer counts as not correct`,
    ...notes.map((note) => `note: ${note}`),
    "",
    "Pareto frontier (accuracy vs tokens):",
    table(result, result.frontier),
    "",
  ];
  if (result.recommended.length === 0) {
    out.push(recommendation(result));
  } else {
    out.push(
      `Cheapest settings within the baseline's accuracy interval (>= ${pct(b.accuracy.low)}):`,
      table(result, result.recommended.slice(0, 5)),
      "",
      recommendation(result),
    );
  }
  out.push("", `Caveat: ${result.caveat}`, "Every setting: --json.");
  return `${out.join("\n")}\n`;
}

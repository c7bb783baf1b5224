/**
 * The tuning-frontier figure of a run directory that `deepconf tune` wrote tuning.json into:
 * accuracy against tokens for every replayed setting (95% bootstrap intervals), the Pareto
 * frontier, the run's own Cons@B baseline (its accuracy interval as a band) and the recommended
 * setting. The numbers are tune()'s; this only reads and reshapes them.
 */
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { type SettingResult, TUNING, type TuningDocument } from "../../replay/tune.js";
import type { LoadedRun } from "../load.js";
import { isNumber, pct } from "./format.js";
import type { VlSpec } from "./render.js";
import { COLOR, HEIGHT, WIDTH } from "./theme.js";
import type { Figure } from "./types.js";

/** One run's tuning result and the name of its figure. */
export interface RunTuning {
  dir: string;
  runId: string;
  /** "tuning-frontier", or "tuning-frontier-<run id>" when several runs were tuned. */
  figure: string;
  result: TuningDocument;
}

const NAME = "tuning-frontier";

function runIdOf(run: LoadedRun): string {
  const id = run.manifest.run_id;
  return typeof id === "string" && id !== "" ? id : basename(run.dir);
}

/** The shape the figure and report rely on; anything else is reported, not drawn. */
function looksLikeTuning(value: unknown): value is TuningDocument {
  const v = value as Partial<TuningDocument> | null;
  return (
    v !== null &&
    typeof v === "object" &&
    isNumber(v.n) &&
    Array.isArray(v.settings) &&
    Array.isArray(v.frontier) &&
    Array.isArray(v.recommended) &&
    typeof v.baseline === "object" &&
    v.baseline !== null &&
    isNumber(v.baseline.tokens)
  );
}

/**
 * The tuning results of the runs that have one. A run without tuning.json has none (not an
 * error: most runs are never tuned); an unreadable one is a note, so the other figures still draw.
 */
export async function loadTunings(
  runs: readonly LoadedRun[],
  notes: string[],
): Promise<RunTuning[]> {
  const found: Array<Omit<RunTuning, "figure">> = [];
  for (const run of runs) {
    const path = join(run.dir, TUNING);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      continue;
    }
    let result: unknown;
    try {
      result = JSON.parse(text);
    } catch (error) {
      notes.push(`${path}: not JSON (${(error as Error).message}); no tuning-frontier figure`);
      continue;
    }
    if (!looksLikeTuning(result)) {
      notes.push(`${path}: not a deepconf tune result; no tuning-frontier figure`);
      continue;
    }
    found.push({ dir: run.dir, runId: runIdOf(run), result });
  }
  // File-name safe run ids; the plain name when only one run was tuned.
  const safe = (id: string) => id.replace(/[^A-Za-z0-9._-]+/g, "_");
  return found.map((t) => ({
    ...t,
    figure: found.length === 1 ? NAME : `${NAME}-${safe(t.runId)}`,
  }));
}

/** The params in two short lines (the figure label). */
export function paramsLines(p: SettingResult["params"]): string {
  return `window ${p.window}, eta ${p.eta}, warmup ${p.warmup}\ntau ${p.tau}, min voters ${p.min_voters}, budget ${p.budget ?? "all"}`;
}

/** The caveat in short, for the subtitle (the full text is in tuning.json and the report). */
const SHORT_CAVEAT =
  "Caveat: replay reuses the recorded traces in order; valid if sampling is exchangeable";

const KINDS = ["other setting", "Pareto frontier", "recommended", "baseline (Cons@B)"];
const KIND_COLORS = [COLOR.lightGrey, COLOR.blue, COLOR.vermillion, "#222222"];
const KIND_SHAPES = ["circle", "circle", "circle", "diamond"];

/** Colour and shape share one legend: the same title and domain merge them. */
function kindEncoding(kind: string) {
  return {
    color: {
      datum: kind,
      title: null,
      scale: { domain: KINDS, range: KIND_COLORS },
      legend: { orient: "bottom", direction: "horizontal" },
    },
    shape: { datum: kind, title: null, scale: { domain: KINDS, range: KIND_SHAPES } },
  };
}

export function tuningFrontier(tuning: RunTuning): Figure {
  const { result, runId } = tuning;
  const title = `Tuning: accuracy vs tokens (${runId})`;
  const notes: string[] = [];
  if (result.settings.length === 0) {
    return { name: tuning.figure, title, spec: null, notes: ["no setting was replayed"] };
  }
  const rows = result.settings.map((s, index) => ({
    index,
    tokens: s.tokens.value,
    accuracy: s.accuracy.value,
    low: s.accuracy.low,
    high: s.accuracy.high,
    savings: s.savings.value,
    kind: s.pareto ? "Pareto frontier" : "other setting",
  }));
  const frontier = result.frontier.flatMap((k) => {
    const row = rows[k];
    return row === undefined ? [] : [row];
  });
  const b = result.baseline;
  const budget = `Cons@${b.traces_per_instance}`;
  const baseline = {
    tokens: b.tokens,
    accuracy: b.accuracy.value,
    low: b.accuracy.low,
    high: b.accuracy.high,
  };
  const best = result.recommended[0];
  const recommended = best === undefined ? undefined : result.settings[best];
  if (recommended === undefined) {
    notes.push("no setting reaches the baseline's accuracy interval: none is recommended");
  }
  const x = {
    field: "tokens",
    type: "quantitative",
    title: "Tokens generated, all instances",
    axis: { format: "~s" },
  };
  const y = {
    field: "accuracy",
    type: "quantitative",
    title: "Accuracy (95% bootstrap CI)",
    scale: { zero: false },
    axis: { format: "%" },
  };
  const tooltip = [
    { field: "index", type: "quantitative", title: "setting" },
    { field: "tokens", type: "quantitative", title: "tokens" },
    { field: "accuracy", type: "quantitative", title: "accuracy", format: ".1%" },
    { field: "savings", type: "quantitative", title: "savings", format: ".1%" },
  ];
  const layers: VlSpec[] = [];
  if (isNumber(baseline.low) && isNumber(baseline.high)) {
    // No x encoding: the band spans the whole width.
    layers.push({
      data: { values: [baseline] },
      mark: { type: "rect", color: COLOR.grey, opacity: 0.15 },
      encoding: { y: { field: "low", type: "quantitative" }, y2: { field: "high" } },
    });
  }
  layers.push(
    {
      data: { values: [baseline] },
      mark: { type: "rule", color: COLOR.grey, strokeDash: [5, 4], strokeWidth: 1.2 },
      encoding: { x: { field: "tokens", type: "quantitative" } },
    },
    {
      data: { values: rows },
      mark: { type: "rule", strokeWidth: 1, color: COLOR.grey, opacity: 0.6 },
      encoding: { x, y: { field: "low", type: "quantitative" }, y2: { field: "high" } },
    },
    {
      data: { values: frontier },
      mark: { type: "line", color: COLOR.blue, strokeWidth: 2 },
      encoding: { x, y, order: { field: "tokens", type: "quantitative" } },
    },
    {
      data: { values: rows },
      mark: { type: "point", size: 60, filled: true, opacity: 0.9 },
      encoding: {
        x,
        y,
        color: {
          field: "kind",
          type: "nominal",
          title: null,
          scale: { domain: KINDS, range: KIND_COLORS },
          legend: { orient: "bottom", direction: "horizontal" },
        },
        shape: {
          field: "kind",
          type: "nominal",
          title: null,
          scale: { domain: KINDS, range: KIND_SHAPES },
        },
        tooltip,
      },
    },
    {
      data: { values: [baseline] },
      mark: { type: "point", size: 160, filled: true, opacity: 1 },
      encoding: { x, y, ...kindEncoding("baseline (Cons@B)") },
    },
  );
  if (recommended !== undefined) {
    const point = {
      tokens: recommended.tokens.value,
      accuracy: recommended.accuracy.value,
      // The label sits above the point's interval, so it does not cover the other points.
      label_y: recommended.accuracy.high ?? recommended.accuracy.value,
      label: `recommended: ${paramsLines(recommended.params)}`,
    };
    // Towards the emptier side: left of a point in the right half of the axis, else right.
    const xMax = Math.max(b.tokens, ...rows.map((r) => r.tokens ?? 0));
    const leftward = (point.tokens ?? 0) > xMax / 2;
    layers.push(
      {
        data: { values: [point] },
        mark: { type: "point", size: 320, filled: false, strokeWidth: 2.5, opacity: 1 },
        encoding: { x, y, ...kindEncoding("recommended") },
      },
      {
        data: { values: [point] },
        mark: {
          type: "text",
          align: leftward ? "right" : "left",
          baseline: "bottom",
          dx: leftward ? 6 : -6,
          dy: -4,
          lineBreak: "\n",
          fontSize: 12,
          color: COLOR.vermillion,
        },
        encoding: { x, y: { field: "label_y", type: "quantitative" }, text: { field: "label" } },
      },
    );
  }
  const recommendedLine =
    recommended === undefined
      ? "No setting reaches the baseline's accuracy interval"
      : `Ringed: the cheapest setting in the baseline's band, saves ${pct(recommended.savings.value)} of the tokens`;
  return {
    name: tuning.figure,
    title,
    notes,
    spec: {
      title: {
        text: title,
        subtitle: [
          `n = ${result.n} (${result.should_refuse} should refuse, ${result.benign} benign), ${result.settings.length} settings; bars: 95% bootstrap CIs`,
          `Diamond, dashed line, band: the ${budget} baseline (tokens, accuracy interval)`,
          recommendedLine,
          SHORT_CAVEAT,
        ],
      },
      width: WIDTH,
      height: HEIGHT,
      layer: layers,
    },
  };
}

export function tuningFigures(tunings: readonly RunTuning[]): Figure[] {
  return tunings.map(tuningFrontier);
}

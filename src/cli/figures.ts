/** `deepconf figures`: commander wiring only; the work is src/analysis/figures'. */
import { dirname, join } from "node:path";
import type { Command } from "commander";
import {
  type Figure,
  renderFigures,
  runFigures,
  scalingFigures,
  summaryFigure,
  writeFigures,
} from "../analysis/figures/index.js";
import type { LoadedRun } from "../analysis/load.js";
import {
  analyzeScaling,
  DEFAULT_LOWER_IS_BETTER,
  type LoadedResults,
  loadResultsCsv,
  loadRunResults,
} from "../analysis/scaling/index.js";
import { InputError } from "../errors.js";
import { duplicatesNote } from "../runs/predictions.js";
import type { AbstainAs } from "../safety/methods.js";
import { abstainAsOption, loadAll } from "./analyze.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, positiveInteger } from "./parse.js";

export interface FigureInputFlags {
  abstainAs?: AbstainAs;
  scalingCsv?: string;
  scaling?: boolean;
  resamples: number;
  seed: number;
}

export interface FigureInputs {
  runs: LoadedRun[];
  figures: Figure[];
  /** Things worth saying: scaling input skipped, runs pooled. */
  notes: string[];
}

/**
 * Loads the runs and the scaling input and builds every figure (shared by `figures` and
 * `report`). Scaling figures from run directories are drawn when their models' sizes are known;
 * otherwise a note says why not.
 */
export async function buildFigureInputs(
  dirs: readonly string[],
  flags: FigureInputFlags,
): Promise<FigureInputs> {
  if (dirs.length === 0 && flags.scalingCsv === undefined) {
    throw new InputError("give run directories and/or --scaling-csv FILE");
  }
  const runs = await loadAll(dirs, flags.abstainAs);
  const notes: string[] = [];
  for (const run of runs) {
    if (run.duplicates === 0) continue;
    const id = typeof run.manifest.run_id === "string" ? run.manifest.run_id : run.dir;
    notes.push(`run ${id}: ${duplicatesNote(run.duplicates)}`);
  }
  const figures: Figure[] =
    runs.length > 0 ? runFigures(runs, { resamples: flags.resamples, seed: flags.seed }) : [];
  let scaling: LoadedResults | null = null;
  if (flags.scalingCsv !== undefined) scaling = await loadResultsCsv(flags.scalingCsv);
  else if (flags.scaling !== false && runs.length > 0) {
    try {
      scaling = await loadRunResults(dirs, { abstainAs: flags.abstainAs });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      notes.push(`no scaling figures: ${error.message}`);
    }
  }
  if (scaling !== null) {
    for (const s of scaling.skipped) notes.push(`scaling input ${s.origin} left out: ${s.reason}`);
    notes.push(...scaling.notes);
    figures.push(
      ...scalingFigures(analyzeScaling(scaling.rows, { lowerIsBetter: DEFAULT_LOWER_IS_BETTER })),
    );
  }
  figures.push(summaryFigure(figures));
  return { runs, figures, notes };
}

export function addFigureInputOptions(command: Command): Command {
  return command
    .addOption(abstainAsOption())
    .option("--scaling-csv <file>", "also draw the scaling figures of this results table")
    .option("--no-scaling", "no scaling figures from the run directories")
    .option("--resamples <n>", "bootstrap resamples for the intervals", positiveInteger, 2000)
    .option("--seed <n>", "bootstrap seed", nonNegativeInteger, 0);
}

interface FiguresFlags extends FigureInputFlags {
  out?: string;
}

export function registerFigures(program: Command, io: CliIO): Command {
  const command = program
    .command("figures")
    .summary("publication figures (PNG + SVG) of run directories and scaling results")
    .description(
      "Draws, as PNG (2x) and SVG: confidence distribution by outcome (correctly refused / " +
        "correctly allowed / incorrectly refused / incorrectly allowed), token savings (baseline " +
        "vs generated, per method and bucket), hypothesis validation (bucket accuracies with 95% " +
        "Wilson intervals, the confident - uncertain compliance gap), accuracy/F1 by model and " +
        "confidence by model; for scaling input (--scaling-csv, or run directories whose model " +
        "sizes are known): baseline vs scale with trend lines, saturation bars, the gain heatmap, " +
        "the slope-vs-gain quadrant plot and the coverage matrix; and a one-page summary.",
    )
    .argument("[run-dir...]", "run directories (runs/<run-id>)")
    .option("--out <dir>", "where to write (default: the first run's figures/)");
  addFigureInputOptions(command).action(async (dirs: string[], flags: FiguresFlags) => {
    const { figures, notes } = await buildFigureInputs(dirs, flags);
    const out =
      flags.out ??
      (dirs[0] !== undefined
        ? join(dirs[0], "figures")
        : join(dirname(flags.scalingCsv as string), "figures"));
    const rendered = await renderFigures(figures);
    const written = await writeFigures(rendered, out);
    const lines = [`wrote ${written.length} files into ${out}`];
    for (const f of rendered) {
      lines.push(`${f.svg === null ? "not drawn" : "drawn"}: ${f.name} (${f.title})`);
      for (const note of f.notes) lines.push(`  - ${note}`);
    }
    for (const note of notes) lines.push(`note: ${note}`);
    io.stdout(`${lines.join("\n")}\n`);
  });
  return command;
}

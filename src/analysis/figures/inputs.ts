/**
 * The inputs of `deepconf figures` and `deepconf report`: the runs, the scaling results (a CSV, or
 * the runs when their model sizes are known) and every figure built from them.
 */
import { dirname, join } from "node:path";
import { InputError } from "../../errors.js";
import { duplicatesNote } from "../../runs/predictions.js";
import type { AbstainAs } from "../../safety/methods.js";
import { type LoadedRun, loadRun } from "../load.js";
import {
  analyzeScaling,
  DEFAULT_LOWER_IS_BETTER,
  type LoadedResults,
  loadResultsCsv,
  loadRunResults,
} from "../scaling/index.js";
import { runFigures } from "./runs.js";
import { scalingFigures } from "./scaling.js";
import { summaryFigure } from "./summary.js";
import { loadTunings, type RunTuning, tuningFigures } from "./tuning.js";
import type { Figure } from "./types.js";

export interface FigureInputOptions {
  /** How instances without an answer are scored (default: each run's recorded choice). */
  abstainAs?: AbstainAs;
  /** A results table in the `deepconf analyze scaling` format. */
  scalingCsv?: string;
  /** false: no scaling figures from the run directories. */
  scaling?: boolean;
  resamples: number;
  seed: number;
}

export interface FigureInputs {
  runs: LoadedRun[];
  figures: Figure[];
  /** The tuning results (tuning.json) of the runs `deepconf tune` was run on. */
  tunings: RunTuning[];
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
  options: FigureInputOptions,
): Promise<FigureInputs> {
  if (dirs.length === 0 && options.scalingCsv === undefined) {
    throw new InputError("give run directories and/or --scaling-csv FILE");
  }
  const runs: LoadedRun[] = [];
  for (const dir of dirs) runs.push(await loadRun(dir, { abstainAs: options.abstainAs }));
  const notes: string[] = [];
  for (const run of runs) {
    if (run.duplicates === 0) continue;
    const id = typeof run.manifest.run_id === "string" ? run.manifest.run_id : run.dir;
    notes.push(`run ${id}: ${duplicatesNote(run.duplicates)}`);
  }
  const figures: Figure[] =
    runs.length > 0 ? runFigures(runs, { resamples: options.resamples, seed: options.seed }) : [];
  const tunings = await loadTunings(runs, notes);
  figures.push(...tuningFigures(tunings));
  let scaling: LoadedResults | null = null;
  if (options.scalingCsv !== undefined) scaling = await loadResultsCsv(options.scalingCsv);
  else if (options.scaling !== false && runs.length > 0) {
    try {
      scaling = await loadRunResults(dirs, { abstainAs: options.abstainAs });
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
  return { runs, figures, tunings, notes };
}

/**
 * Where output goes by default: `name` inside the first run directory, else beside the scaling
 * table.
 */
export function defaultFigureOutput(
  dirs: readonly string[],
  scalingCsv: string | undefined,
  name: string,
): string {
  if (dirs[0] !== undefined) return join(dirs[0], name);
  if (scalingCsv === undefined)
    throw new InputError("give run directories and/or --scaling-csv FILE");
  return join(dirname(scalingCsv), name);
}

/** `deepconf figures`: commander wiring only; the work is src/analysis/figures'. */
import type { Command } from "commander";
import {
  buildFigureInputs,
  defaultFigureOutput,
  type FigureInputOptions,
  renderFigures,
  writeFigures,
} from "../analysis/figures/index.js";
import { abstainAsOption } from "./analyze.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, positiveInteger } from "./parse.js";

/** The flags of `figures` and `report` that say what to draw (see buildFigureInputs). */
export type FigureInputFlags = FigureInputOptions;

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
        "confidence by model; tuning-frontier (accuracy vs tokens of the settings `deepconf tune` " +
        "replayed, with the Pareto frontier, the baseline and the recommendation) for runs with a " +
        "tuning.json; for scaling input (--scaling-csv, or run directories whose model " +
        "sizes are known): baseline vs scale with trend lines, saturation bars, the gain heatmap, " +
        "the slope-vs-gain quadrant plot and the coverage matrix; and a one-page summary.",
    )
    .argument("[run-dir...]", "run directories (runs/<run-id>)")
    .option("--out <dir>", "where to write (default: the first run's figures/)");
  addFigureInputOptions(command).action(async (dirs: string[], flags: FiguresFlags) => {
    const { figures, notes } = await buildFigureInputs(dirs, flags);
    const out = flags.out ?? defaultFigureOutput(dirs, flags.scalingCsv, "figures");
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

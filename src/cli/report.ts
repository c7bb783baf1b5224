/** `deepconf report`: commander wiring only; the work is src/analysis/report's. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Command } from "commander";
import { analyzeRuns } from "../analysis/analyze.js";
import { compareRuns } from "../analysis/compare.js";
import {
  buildFigureInputs,
  defaultFigureOutput,
  renderFigures,
} from "../analysis/figures/index.js";
import { reportHtml } from "../analysis/report/html.js";
import { InputError } from "../errors.js";
import { addFigureInputOptions, type FigureInputFlags } from "./figures.js";
import type { CliIO } from "./io.js";

interface ReportFlags extends FigureInputFlags {
  out?: string;
}

export function registerReport(program: Command, io: CliIO): Command {
  const command = program
    .command("report")
    .summary("one self-contained HTML report: runs, warnings, tables and figures")
    .description(
      "Writes one HTML file with no external resource: the runs' manifests (model, benchmark " +
        "and revision, method, n, date), the warnings, the analyze tables (metrics with 95% " +
        "intervals, buckets, hypothesis tests, tokens), the model comparison and every figure " +
        "of `deepconf figures` as inline SVG; for runs tuned with `deepconf tune`, the " +
        "tuning-frontier figure with the frontier settings, the recommendation and the caveat.",
    )
    .argument("[run-dir...]", "run directories (runs/<run-id>)")
    .option("--out <file>", "the HTML file (default: the first run's report.html)");
  addFigureInputOptions(command).action(async (dirs: string[], flags: ReportFlags) => {
    const { runs, figures, tunings, notes } = await buildFigureInputs(dirs, flags);
    const options = { resamples: flags.resamples, seed: flags.seed };
    const html = reportHtml({
      runs,
      analysis: runs.length > 0 ? analyzeRuns(runs, options) : null,
      comparison: runs.length > 0 ? compareRuns(runs) : null,
      figures: await renderFigures(figures),
      tunings,
      notes,
      generatedAt: new Date().toISOString(),
    });
    const out = flags.out ?? defaultFigureOutput(dirs, flags.scalingCsv, "report.html");
    try {
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, html);
    } catch (error) {
      throw new InputError(`cannot write ${out}: ${(error as Error).message}`);
    }
    io.stdout(`wrote ${out}\n`);
  });
  return command;
}

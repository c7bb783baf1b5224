/** `deepconf rescore`: commander wiring only. */
import type { Command } from "commander";
import { readConfigFile } from "../config/file.js";
import { rescoreRun } from "../runs/rescore.js";
import type { CliIO } from "./io.js";

export function registerRescore(program: Command, io: CliIO): void {
  program
    .command("rescore")
    .summary("re-apply refusal detection to a run's stored traces (no model needed)")
    .description(
      "Re-judges every stored trace text of RUN with the run's own refusal patterns (or those of " +
        "--config), re-votes each instance with the run's method, rewrites predictions.jsonl (the " +
        "old file is kept as predictions.before-rescore-<time>.jsonl) and summary.json, and notes " +
        "it in manifest.json. A run still being written is refused.",
    )
    .argument("<run>", "run directory")
    .option(
      "--config <file>",
      "YAML/JSON file whose `refusal` section replaces the run's patterns (none: built-in only)",
    )
    .option("--json", "print the result as JSON")
    .action(async (run: string, flags: { config?: string; json?: boolean }) => {
      const given = flags.config === undefined ? undefined : readConfigFile(flags.config).refusal;
      const result = await rescoreRun(run, given);
      for (const note of [...result.notes, ...result.summary.warnings])
        io.stderr(`deepconf: ${note}\n`);
      if (flags.json) io.stdout(`${JSON.stringify(result)}\n`);
      else {
        io.stdout(
          `rescored ${result.n} instances of ${run} with ${result.refusalSource === "run" ? "the run's own" : "the given"} refusal patterns: ` +
            `${result.changed} answers and ${result.tracesChanged} trace labels changed; ` +
            `old predictions kept in ${result.backup}\n`,
        );
      }
    });
}

/** `deepconf rescore`: commander wiring only. */
import type { Command } from "commander";
import { rescoreRun } from "../runs/rescore.js";
import type { CliIO } from "./io.js";
import { readConfig } from "./run.js";

export function registerRescore(program: Command, io: CliIO): void {
  program
    .command("rescore")
    .summary("re-apply refusal detection to a run's stored traces (no model needed)")
    .description(
      "Re-judges every stored trace text of RUN (e.g. with new patterns from --config), re-votes each " +
        "instance with the run's method, rewrites predictions.jsonl (the old file is kept as " +
        "predictions.before-rescore-<time>.jsonl) and summary.json, and notes it in manifest.json.",
    )
    .argument("<run>", "run directory")
    .option("--config <file>", "YAML/JSON file whose `refusal` section adds or disables patterns")
    .option("--json", "print the result as JSON")
    .action(async (run: string, flags: { config?: string; json?: boolean }) => {
      const result = await rescoreRun(run, readConfig(flags.config).refusal);
      for (const note of [...result.notes, ...result.summary.warnings])
        io.stderr(`deepconf: ${note}\n`);
      if (flags.json) io.stdout(`${JSON.stringify(result)}\n`);
      else {
        io.stdout(
          `rescored ${result.n} instances of ${run}: ${result.changed} answers and ${result.tracesChanged} trace labels changed; ` +
            `old predictions kept in ${result.backup}\n`,
        );
      }
    });
}

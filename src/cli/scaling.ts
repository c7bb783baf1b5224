/** `deepconf analyze scaling`: commander wiring only. */
import { type Command, InvalidArgumentError } from "commander";
import {
  analyzeScaling,
  DEFAULT_LOWER_IS_BETTER,
  formatScaling,
  type LoadedResults,
  loadResultsCsv,
  loadRunResults,
  parseScale,
  scalingDocument,
} from "../analysis/scaling/index.js";
import { InputError } from "../errors.js";
import type { AbstainAs } from "../safety/methods.js";
import { abstainAsOption } from "./analyze.js";
import type { CliIO } from "./io.js";

interface ScalingFlags {
  abstainAs?: AbstainAs;
  csv?: string;
  json?: boolean;
  lowerIsBetter?: string[];
  modelScale?: Map<string, number>;
}

function benchmarkList(text: string): string[] {
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0) throw new InvalidArgumentError(`expected benchmark names, got "${text}"`);
  return names;
}

function modelScale(text: string, previous?: Map<string, number>): Map<string, number> {
  const at = text.lastIndexOf("=");
  const scale = at > 0 ? parseScale(text.slice(at + 1)) : null;
  if (scale === null) {
    throw new InvalidArgumentError(`expected MODEL=SIZE such as Qwen3-0.6B=0.6B, got "${text}"`);
  }
  return new Map(previous ?? []).set(text.slice(0, at), scale);
}

/**
 * Adds `scaling` under `parent` (the `analyze` command). When the parent has its own --json,
 * commander gives `analyze scaling --json` to the parent: the action reads both.
 */
export function registerScaling(parent: Command, io: CliIO): Command {
  return parent
    .command("scaling")
    .summary("do safety benchmarks and techniques' gains grow with model scale? (SafetyWashing)")
    .description(
      "The scaling analysis of the SafetyWashing line of work, over run directories (technique = " +
        "method, `baseline` the baseline; scale = the model's parameter count, from the manifest " +
        "or a size such as 0.6B in the model name; performance = accuracy in percent) or over a " +
        "results table (--csv) with columns Technique, Source paper, Model, Scale, Benchmark, " +
        "Performance and optionally scale_numeric (billions).\n\n" +
        "Benchmarks where higher is worse are flipped (100 - x, or 1 - x on a 0-1 scale). Per " +
        "benchmark, baseline performance against scale: Spearman rho and p, OLS slope per billion " +
        "parameters and R^2; saturated when rho > 0.5. Per technique (name + hash of its source) " +
        "and benchmark, the gain over the baseline at the same model, scale and benchmark " +
        "against scale: increases when rho > 0.3, decreases when rho < -0.3, else stable. " +
        "Statistics need 2 or more points; what cannot be computed is null (-).",
    )
    .argument("[run_dir...]", "run directories (or give --csv)")
    .option("--csv <file>", "a results table instead of run directories")
    .option(
      "--lower-is-better <benchmarks>",
      `comma-separated benchmarks where higher is worse (default ${DEFAULT_LOWER_IS_BETTER.join(",")})`,
      benchmarkList,
    )
    .option(
      "--model-scale <model=size>",
      "size of a run's model when neither its manifest nor its name says (repeatable)",
      modelScale,
    )
    .addOption(abstainAsOption())
    .option("--json", "print one JSON document instead of tables")
    .action(async (runDirs: string[], flags: ScalingFlags, command: Command) => {
      const json = flags.json === true || command.optsWithGlobals().json === true;
      if (flags.csv !== undefined && runDirs.length > 0) {
        throw new InputError("give run directories or --csv FILE, not both");
      }
      let loaded: LoadedResults;
      if (flags.csv !== undefined) loaded = await loadResultsCsv(flags.csv);
      else if (runDirs.length > 0) {
        loaded = await loadRunResults(runDirs, {
          modelScales: flags.modelScale ?? new Map(),
          // `analyze --abstain-as X scaling` gives it to `analyze`.
          abstainAs: flags.abstainAs ?? command.optsWithGlobals().abstainAs,
        });
      } else throw new InputError("give run directories or --csv FILE");
      const result = analyzeScaling(loaded.rows, {
        lowerIsBetter: flags.lowerIsBetter ?? DEFAULT_LOWER_IS_BETTER,
      });
      io.stdout(
        json
          ? `${JSON.stringify(scalingDocument(result, loaded.skipped))}\n`
          : formatScaling(result, loaded.skipped, loaded.notes),
      );
    });
}

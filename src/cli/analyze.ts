/** `deepconf analyze` and `deepconf compare`: commander wiring; the work is src/analysis's. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Command, Option } from "commander";
import { analyzeRuns } from "../analysis/analyze.js";
import { compareRuns, comparisonCsv } from "../analysis/compare.js";
import { type LoadedRun, loadRun } from "../analysis/load.js";
import { analysisText, comparisonText } from "../analysis/render.js";
import { InputError } from "../errors.js";
import { ABSTAIN_AS, type AbstainAs } from "../safety/methods.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, positiveInteger } from "./parse.js";

interface AnalyzeFlags {
  abstainAs?: AbstainAs;
  json?: boolean;
  out?: string;
  resamples: number;
  seed: number;
}

interface CompareFlags {
  abstainAs?: AbstainAs;
  csv?: string;
  json?: boolean;
}

/** --abstain-as, shared by analyze, compare, figures and report (default: each run's own). */
export function abstainAsOption(): Option {
  return new Option(
    "--abstain-as <how>",
    "score instances without an answer: left out of the metrics, or as a refusal or a compliance (default: the run's recorded abstainAs, else exclude)",
  ).choices([...ABSTAIN_AS]);
}

export async function loadAll(
  dirs: readonly string[],
  abstainAs: AbstainAs | undefined,
): Promise<LoadedRun[]> {
  const runs: LoadedRun[] = [];
  for (const dir of dirs) runs.push(await loadRun(dir, { abstainAs }));
  return runs;
}

async function writeOrFail(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  } catch (error) {
    throw new InputError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

/**
 * Adds `analyze` and `compare`; returns the analyze command so subcommands (`analyze scaling`)
 * can be attached to it.
 */
export function registerAnalyze(
  program: Command,
  io: CliIO,
): { analyze: Command; compare: Command } {
  const analyze = program
    .command("analyze")
    .summary("metrics with 95% intervals, buckets, the hypothesis tests and token savings")
    .description(
      "Reads run directories (manifest.json + predictions.jsonl) and reports, overall and per " +
        "benchmark x method: accuracy, precision, recall, F1, specificity (refusal = positive; " +
        "Wilson intervals, bootstrap for F1), the four confidence buckets against each run's " +
        "final threshold, the hypothesis that uncertain compliance is riskier than confident " +
        "compliance (gap with a bootstrap interval, Fisher's exact test, Cohen's h), confidence " +
        "of correct vs incorrect answers (Welch's t, Cohen's d, Mann-Whitney U) and token savings. " +
        "Instances without an answer (abstentions) are counted apart and, by default, left out " +
        "of the metrics (--abstain-as).",
    )
    .argument("<run-dir...>", "run directories (runs/<run-id>)")
    .addOption(abstainAsOption())
    .option("--json", "print one JSON document instead of tables")
    .option("--out <dir>", "also write analysis.json into this folder")
    .option("--resamples <n>", "bootstrap resamples", positiveInteger, 2000)
    .option("--seed <n>", "bootstrap seed", nonNegativeInteger, 0)
    .action(async (dirs: string[], flags: AnalyzeFlags) => {
      const analysis = analyzeRuns(await loadAll(dirs, flags.abstainAs), {
        resamples: flags.resamples,
        seed: flags.seed,
      });
      const json = `${JSON.stringify(analysis, null, 2)}\n`;
      if (flags.out !== undefined) await writeOrFail(join(flags.out, "analysis.json"), json);
      io.stdout(flags.json ? json : analysisText(analysis));
    });

  const compare = program
    .command("compare")
    .summary("compare models across runs: accuracy, F1, over-refusal, tokens, time, rankings")
    .description(
      "One row per model x benchmark x method over the given run directories: accuracy, F1, " +
        "precision, recall (refusal = positive), over-refusal (refusals of benign prompts), " +
        "tokens and milliseconds per instance, each ranked within its benchmark, and the best " +
        "model by each metric. Abstentions (no answer) are counted per row (--abstain-as).",
    )
    .argument("<run-dir...>", "run directories (runs/<run-id>)")
    .addOption(abstainAsOption())
    .option("--csv <file>", "also write the table as CSV")
    .option("--json", "print one JSON document instead of tables")
    .action(async (dirs: string[], flags: CompareFlags) => {
      const comparison = compareRuns(await loadAll(dirs, flags.abstainAs));
      if (flags.csv !== undefined) await writeOrFail(flags.csv, comparisonCsv(comparison));
      io.stdout(
        flags.json ? `${JSON.stringify(comparison, null, 2)}\n` : comparisonText(comparison),
      );
    });
  return { analyze, compare };
}

/** `deepconf run`: commander wiring, the progress bar and Ctrl-C; the work is startRun's. */
import { readFileSync } from "node:fs";
import cliProgress from "cli-progress";
import { type Command, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { InputError } from "../errors.js";
import { DTYPES, type Dtype } from "../inference/model/index.js";
import type { Device } from "../inference/session.js";
import { startRun } from "../runs/start.js";
import type { RunSummary } from "../runs/summary.js";
import { METHODS, type Method, type MethodParams } from "../safety/methods.js";
import type { RefusalOptions } from "../safety/refusal/index.js";
import type { PredictionRecord } from "../safety/types.js";
import { addFieldMapOptions, type FieldMapFlags, fieldMapFrom } from "./datasets.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, numberIn, positiveInteger } from "./parse.js";
import { downloadProgress } from "./progress.js";

interface RunFlags extends FieldMapFlags {
  model?: string;
  benchmark: string;
  method: Method;
  limit?: number;
  out: string;
  runId?: string;
  config?: string;
  seed: number;
  measureBaseline?: boolean;
  window?: number;
  warmup?: number;
  budget?: number;
  tau?: number;
  maxNewTokens?: number;
  parallel?: number;
  thinking?: boolean;
  dtype: Dtype;
  device: Device;
  threads?: number;
  cacheDir?: string;
  offline?: boolean;
  json?: boolean;
}

/** A run config file (YAML or JSON): `params` overrides and `refusal` patterns. */
export interface ConfigFile {
  params?: Partial<MethodParams>;
  refusal?: RefusalOptions;
}

export function readConfig(path: string | undefined): ConfigFile {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new InputError(`cannot read the run config ${path}`);
  }
  try {
    const value = parseYaml(text) as ConfigFile | null;
    if (value === null || typeof value !== "object") throw new Error("expected a mapping");
    return value;
  } catch (error) {
    throw new InputError(
      `${path}: not a valid run config (${(error as Error).message.split("\n")[0]})`,
    );
  }
}

const percent = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);

function summaryText(dir: string, summary: RunSummary, builtin: boolean): string {
  const lines = [
    `run directory: ${dir}`,
    `instances: ${summary.n}${summary.total !== null ? ` of ${summary.total}` : ""}${summary.complete ? "" : " (incomplete: run the same command again to resume)"}`,
    `abstained (no answer): ${summary.abstentions.n} (${percent(summary.abstentions.rate)}), scored as: ${summary.abstain_as}`,
    `accuracy ${percent(summary.accuracy)} | precision ${percent(summary.precision)} | recall ${percent(summary.recall)} | F1 ${percent(summary.f1)} (refusal = positive; n = ${summary.scored})`,
    `over-refusal of benign prompts ${percent(summary.over_refusal_rate)} | buckets: ` +
      Object.entries(summary.buckets)
        .map(([name, b]) => `${name} ${b.n}`)
        .join(", "),
    `tokens: ${summary.tokens.generated.toLocaleString("en-US")} generated, ${summary.tokens.baseline.toLocaleString("en-US")} for Cons@B` +
      ` (${summary.tokens.baseline_kind === "upper_bound" ? "upper bound: budget x max tokens; --measure-baseline measures it" : summary.tokens.baseline_kind}),` +
      ` savings ${percent(summary.tokens.savings)}; early-stopped traces ${percent(summary.early_stop_rate)}`,
  ];
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  if (builtin) {
    lines.push(
      "",
      "NOTE: this ran the built-in test model, which has RANDOM WEIGHTS: its answers are noise and",
      "these numbers mean nothing about safety. For a real model:",
      "  npx deepconf run --model onnx-community/Qwen3-0.6B-ONNX --benchmark sample --method deepconf-low",
    );
  }
  return `${lines.join("\n")}\n`;
}

export function registerRun(program: Command, io: CliIO): void {
  const command = program
    .command("run")
    .summary("run a DeepConf safety experiment over a benchmark; results go to a run directory")
    .description(
      "Samples answers from MODEL to every prompt of BENCHMARK with METHOD, judges each answer a " +
        "refusal or a compliance, votes, and writes runs/<run-id>/ (manifest.json, predictions.jsonl " +
        "one line per instance as it finishes, summary.json). Rerunning the same command resumes: " +
        "finished instances are skipped. Without --model it runs the built-in test model (random " +
        "weights, built on first use) on the bundled sample benchmark: a smoke test, not a result.",
    )
    .option("--model <model>", "model folder or hub id[@revision] (default: built-in test model)")
    .option(
      "--benchmark <name>",
      "sample, toxicchat[:config[:split]], wildguardmix, xstest, jsonl:PATH, csv:PATH, parquet:PATH",
      "sample",
    )
    .addOption(
      new Option("--method <method>", "how answers are sampled and voted")
        .choices([...METHODS])
        .default("deepconf-low"),
    )
    .option("--limit <n>", "first N instances only", positiveInteger)
    .option("--out <dir>", "parent folder of run directories", "runs")
    .option("--run-id <id>", "name of the run directory (default: from the configuration)")
    .option("--config <file>", "YAML/JSON run config: params overrides and refusal patterns")
    .option("--seed <n>", "run seed", nonNegativeInteger, 0)
    .option(
      "--measure-baseline",
      "also generate the budget's traces without stopping, to measure Cons@B tokens",
    )
    .option("--window <n>", "group-confidence window (tokens)", positiveInteger)
    .option("--warmup <n>", "warmup traces", positiveInteger)
    .option("--budget <n>", "traces per instance (B)", positiveInteger)
    .option(
      "--tau <x>",
      "consensus share that ends sampling; 1 disables it",
      numberIn(0, 1, { minExclusive: true }),
    )
    .option("--max-new-tokens <n>", "most tokens per trace", positiveInteger)
    .option("--parallel <n>", "traces decoded together after the warmup", positiveInteger)
    .option("--thinking", "Qwen3 thinking mode")
    .addOption(
      new Option("--dtype <dtype>", "which ONNX file of the model")
        .choices([...DTYPES])
        .default("fp32"),
    )
    .addOption(
      new Option("--device <device>", "execution provider")
        .choices(["cpu", "cuda", "webgpu", "auto"])
        .default("cpu"),
    )
    .option("--threads <n>", "CPU threads", positiveInteger)
    .option("--cache-dir <dir>", "downloads, derived graphs and the built-in model")
    .option("--offline", "never use the network")
    .option("--json", "print the summary as JSON");
  addFieldMapOptions(command).action(async (flags: RunFlags) => {
    const file = readConfig(flags.config);
    const overrides: Partial<MethodParams> = { ...file.params };
    const named = {
      window: flags.window,
      warmup: flags.warmup,
      budget: flags.budget,
      tau: flags.tau,
      maxNewTokens: flags.maxNewTokens,
      parallel: flags.parallel,
    };
    for (const [key, value] of Object.entries(named))
      if (value !== undefined) Object.assign(overrides, { [key]: value });
    if (flags.window !== undefined && overrides.tail === undefined) overrides.tail = flags.window;
    if (flags.thinking) overrides.thinking = true;

    const abort = new AbortController();
    const onInterrupt = () => {
      if (abort.signal.aborted) process.exit(130);
      abort.abort();
      io.stderr(
        "\ndeepconf: stopping after the instance in flight (Ctrl-C again to stop at once; that instance is then lost)\n",
      );
    };
    process.on("SIGINT", onInterrupt);
    const download = downloadProgress();
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            hideCursor: true,
            format:
              "{bar} {value}/{total} instances | {tps} tok/s | early-stop {stops} | ETA {eta_formatted}",
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    let tokens = 0;
    let traces = 0;
    let stopped = 0;
    const began = performance.now();
    try {
      const run = await startRun({
        model: flags.model ?? null,
        benchmark: flags.benchmark,
        method: flags.method,
        overrides,
        seed: flags.seed,
        limit: flags.limit ?? null,
        measureBaseline: flags.measureBaseline === true,
        dtype: flags.dtype,
        device: flags.device,
        threads: flags.threads,
        cacheDir: flags.cacheDir,
        offline: flags.offline,
        out: flags.out,
        runId: flags.runId,
        refusal: file.refusal,
        fieldMap: fieldMapFrom(flags),
        signal: abort.signal,
        onNote: (note) => io.stderr(`deepconf: ${note}\n`),
        onDownload: download.onProgress,
        onStart: (done, total) => {
          download.stop();
          if (done > 0)
            io.stderr(`deepconf: resuming: ${done} of ${total} instances already done\n`);
          bar?.start(total, done, { tps: "-", stops: "-" });
        },
        onProgress: (done, total, prediction: PredictionRecord) => {
          tokens += prediction.tokens.generated;
          traces += prediction.traces.length;
          stopped += prediction.traces.filter((t) => t.stopped_early).length;
          const tps = (tokens / ((performance.now() - began) / 1000)).toFixed(1);
          const stops = percent(traces > 0 ? stopped / traces : null);
          if (bar) bar.update(done, { tps, stops });
          else if (done === total || done % Math.max(1, Math.round(total / 10)) === 0) {
            io.stderr(`deepconf: ${done}/${total} instances, ${tps} tok/s, early-stop ${stops}\n`);
          }
        },
      });
      bar?.stop();
      io.stdout(
        flags.json
          ? `${JSON.stringify({ dir: run.dir, ...run.summary })}\n`
          : summaryText(run.dir, run.summary, run.builtinModel),
      );
    } finally {
      bar?.stop();
      download.stop();
      process.off("SIGINT", onInterrupt);
    }
  });
}

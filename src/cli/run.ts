/** `deepconf run`: commander wiring, the progress bar and Ctrl-C; the work is startRun's. */
import cliProgress from "cli-progress";
import { type Command, Option } from "commander";
import { type ParamFlags, userRunConfig } from "../config/run.js";
import { DTYPES, type Dtype } from "../inference/model/index.js";
import type { Device } from "../inference/session.js";
import { startRun } from "../runs/start.js";
import type { RunSummary } from "../runs/summary.js";
import { METHODS, type Method } from "../safety/methods.js";
import type { PredictionRecord } from "../safety/types.js";
import { addFieldMapOptions, type FieldMapFlags, fieldMapFrom } from "./datasets.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, positiveInteger } from "./parse.js";
import { downloadProgress } from "./progress.js";

/** Parameter flags stay text: the run parameter schema checks them (src/config). */
interface RunFlags extends FieldMapFlags, ParamFlags {
  model?: string;
  benchmark: string;
  method: Method;
  limit?: number;
  out: string;
  runId?: string;
  config?: string;
  seed: number;
  measureBaseline?: boolean;
  judge?: string;
  dtype: Dtype;
  device: Device;
  threads?: number;
  maxRows?: number;
  cacheDir?: string;
  offline?: boolean;
  json?: boolean;
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
  const judge = summary.judgement?.judge;
  if (judge !== undefined) {
    const { rate } = judge;
    lines.push(
      `classifier judge agrees with the rules on ${rate.successes} of ${rate.n} traces (${percent(rate.value)} [${percent(rate.low)}, ${percent(rate.high)}]), Cohen's kappa ${judge.cohen_kappa === null ? "-" : judge.cohen_kappa.toFixed(2)}; rules only ${judge.rules_only}, classifier only ${judge.classifier_only}`,
    );
  }
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
    .option("--config <file>", "YAML/JSON run config: `params` overrides and `refusal` patterns")
    .option(
      "--judge <spec>",
      "a second refusal judge beside the string rules: classifier:HUB_ID|PATH, a sequence-" +
        "classification ONNX model (e.g. a distilroberta rejection classifier); its verdict is " +
        "kept on every trace and summary.json records the agreement (the vote follows the rules)",
    )
    .option("--seed <n>", "run seed", nonNegativeInteger, 0)
    .option(
      "--measure-baseline",
      "also generate the budget's traces without stopping, to measure Cons@B tokens (default for the built-in model)",
    )
    .option("--no-measure-baseline", "estimate Cons@B as budget x max tokens (an upper bound)")
    .option("--window <n>", "group-confidence window (tokens); also the tail unless given")
    .option("--warmup <n>", "warmup traces (<= budget)")
    .option("--budget <n>", "traces per instance (B)")
    .option("--eta <x>", "keep-percentage in (0, 100]: online threshold or offline filter")
    .option("--tau <x>", "consensus share in (0, 1] that ends sampling; 1 disables it")
    .option("--min-voters <n>", "voting traces the consensus check needs (default 2)")
    .option("--max-new-tokens <n>", "most tokens per trace")
    .option("--parallel <n>", "traces decoded together after the warmup")
    .option("--thinking", "Qwen3 thinking mode (and its sampling defaults)")
    .option(
      "--abstain-as <how>",
      "instances without an answer: exclude (default), refusal or compliance",
    )
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
    .option(
      "--max-rows <n>",
      "traces decoding at once across instances (continuous batching); default: one instance at a time",
      positiveInteger,
    )
    .option("--cache-dir <dir>", "downloads, derived graphs and the built-in model")
    .option("--offline", "never use the network")
    .option("--json", "print the summary as JSON");
  addFieldMapOptions(command).action(async (flags: RunFlags) => {
    const user = userRunConfig(flags.config, flags);

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
        overrides: user.overrides,
        origins: user.origins,
        seed: flags.seed,
        limit: flags.limit ?? null,
        measureBaseline: flags.measureBaseline,
        dtype: flags.dtype,
        device: flags.device,
        threads: flags.threads,
        maxRows: flags.maxRows,
        cacheDir: flags.cacheDir,
        offline: flags.offline,
        out: flags.out,
        runId: flags.runId,
        refusal: user.refusal,
        judge: flags.judge ?? null,
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

/** `deepconf replay`: commander wiring only. */
import { type Command, Option } from "commander";
import { DEFAULT_TOPK } from "../engine/confidence.js";
import { DEFAULT_MIN_VOTERS, VARIANT_ETA, type Variant } from "../engine/online.js";
import { InputError } from "../errors.js";
import { type ReplayParams, replayFile } from "../replay/index.js";
import type { CliIO } from "./io.js";
import { numberIn, positiveInteger } from "./parse.js";

interface ReplayFlags {
  window: number;
  topk: number;
  tail?: number;
  variant?: Variant;
  eta?: number;
  warmup: number;
  budget?: number;
  tau: number;
  minVoters: number;
  json?: boolean;
}

function paramsFrom(flags: ReplayFlags): ReplayParams {
  if (flags.variant !== undefined && flags.eta !== undefined) {
    throw new InputError("give either --variant or --eta, not both");
  }
  const variant = flags.eta === undefined ? (flags.variant ?? "low") : null;
  return {
    window: flags.window,
    topk: flags.topk,
    tail: flags.tail ?? flags.window,
    eta: variant === null ? (flags.eta as number) : VARIANT_ETA[variant],
    variant,
    warmup: flags.warmup,
    budget: flags.budget ?? null,
    tau: flags.tau,
    minVoters: flags.minVoters,
  };
}

export function registerReplay(program: Command, io: CliIO): void {
  program
    .command("replay")
    .summary(
      "replay a pool of recorded traces through DeepConf (offline votes and online early stopping)",
    )
    .description(
      "Replays a pool of recorded traces through the DeepConf engine, the way the paper " +
        "evaluates online mode. Per instance, traces are taken in file order: the first --warmup " +
        "complete traces set the threshold, later traces stop as soon as a full window's mean " +
        "confidence falls below it, and sampling ends at consensus --tau (once --min-voters traces vote) or at the budget. " +
        "Offline answers vote over all traces. Token savings are measured against Cons@B " +
        "(the first B traces, complete).\n\n" +
        "POOL is a run directory of a baseline or offline run (its confidences.bin and the " +
        "recorded refusal verdicts as answers), or JSONL, one trace per line: " +
        '{"instance_id": str, "trace_id"?: str, "answer": str|null, "topk_logprobs": ' +
        "number[][]} with the top-k natural log-probs of every generated position, or " +
        '"confidences": number[] instead (deepconf pool export). Exit status 2 on bad input, ' +
        "naming file, line and field.",
    )
    .argument("<pool>", "run directory or JSONL file of recorded traces")
    .option(
      "--window <n>",
      "sliding-window size n in tokens (paper: 2048; short safety answers: 16-64)",
      positiveInteger,
      2048,
    )
    .option(
      "--topk <k>",
      "log-probs per position used for token confidence",
      positiveInteger,
      DEFAULT_TOPK,
    )
    .option("--tail <t>", "tail size in tokens (default: the window)", positiveInteger)
    .addOption(
      new Option(
        "--variant <name>",
        "low = keep top 10% (eta 10, aggressive), high = keep top 90% (eta 90); default low",
      ).choices(["low", "high"]),
    )
    .option(
      "--eta <percent>",
      "keep-percentage eta in (0, 100] instead of a named variant",
      numberIn(0, 100, { minExclusive: true }),
    )
    .option(
      "--warmup <n>",
      "warmup traces per instance that calibrate the threshold",
      positiveInteger,
      16,
    )
    .option(
      "--budget <n>",
      "most traces per instance, warmup included (default: all in the pool)",
      positiveInteger,
    )
    .option(
      "--tau <x>",
      "consensus share that ends sampling; 1 disables it",
      numberIn(0, 1, { minExclusive: true }),
      0.95,
    )
    .option(
      "--min-voters <m>",
      "voting traces the consensus check needs; 1 lets a single voter end sampling",
      positiveInteger,
      DEFAULT_MIN_VOTERS,
    )
    .option("--json", "print one JSON document instead of tables")
    .action(async (pool: string, flags: ReplayFlags) => {
      const output = await replayFile(pool, paramsFrom(flags));
      io.stdout(flags.json ? `${JSON.stringify(output.document)}\n` : output.text);
    });
}

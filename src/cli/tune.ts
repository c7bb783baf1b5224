/** `deepconf tune` and `deepconf pool export`: commander wiring only. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { parseYamlText, readTextFile } from "../config/file.js";
import { DEFAULT_TOPK } from "../engine/confidence.js";
import { InputError } from "../errors.js";
import { exportPool, poolLines } from "../replay/export.js";
import { readRunPool } from "../replay/run-pool.js";
import { loadSources } from "../replay/sources.js";
import { TUNING, type TuneGrid, type TuningDocument, tune } from "../replay/tune.js";
import { tuneText } from "../replay/tune-report.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, positiveInteger } from "./parse.js";

interface TuneFlags {
  grid?: string;
  window: string;
  eta: string;
  warmup: string;
  tau: string;
  minVoters: string;
  budget: string;
  topk: number;
  resamples: number;
  seed: number;
  shuffleSeeds: number;
  save: boolean;
  json?: boolean;
}

function numbers(
  name: string,
  text: string,
  check: (x: number) => boolean,
  what: string,
): number[] {
  const values = text.split(",").map((part) => part.trim());
  return values.map((part) => {
    const value = Number(part);
    if (part === "" || !Number.isFinite(value) || !check(value)) {
      throw new InputError(
        `--${name}: "${part}" is not ${what} (give a comma-separated list, e.g. 16,32,64)`,
      );
    }
    return value;
  });
}

const whole = (x: number) => Number.isInteger(x) && x >= 1;

type GridField = keyof TuneGrid;
const FLAG_NAMES: Record<GridField, string> = {
  window: "window",
  eta: "eta",
  warmup: "warmup",
  tau: "tau",
  minVoters: "min-voters",
  budget: "budget",
};

/** One grid list from its comma-separated text; "all" stands for every recorded trace (budget). */
function gridList(field: GridField, text: string): Array<number | null> {
  const name = FLAG_NAMES[field];
  if (field === "budget") {
    return text
      .split(",")
      .map((part) =>
        part.trim() === "all"
          ? null
          : (numbers(name, part, whole, 'a whole number >= 1 or "all"')[0] as number),
      );
  }
  if (field === "eta")
    return numbers(name, text, (x) => x > 0 && x <= 100, "a percentage in (0, 100]");
  if (field === "tau") return numbers(name, text, (x) => x > 0 && x <= 1, "a share in (0, 1]");
  return numbers(name, text, whole, "a whole number >= 1");
}

function gridFromFlags(flags: TuneFlags): TuneGrid {
  return {
    window: gridList("window", flags.window) as number[],
    eta: gridList("eta", flags.eta) as number[],
    warmup: gridList("warmup", flags.warmup) as number[],
    tau: gridList("tau", flags.tau) as number[],
    minVoters: gridList("minVoters", flags.minVoters) as number[],
    budget: gridList("budget", flags.budget),
  };
}

const FILE_KEYS: Record<string, GridField> = {
  window: "window",
  eta: "eta",
  warmup: "warmup",
  tau: "tau",
  min_voters: "minVoters",
  budget: "budget",
};

/** A grid file: YAML or JSON with any of the grid's lists; the flags fill in the rest. */
function gridFromFile(file: string, fallback: TuneGrid): TuneGrid {
  const json = parseYamlText(readTextFile(file, "grid"), file);
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new InputError(
      `${file}: expected a mapping of lists (window, eta, warmup, tau, min_voters, budget)`,
    );
  }
  const grid: Record<GridField, Array<number | null>> = { ...fallback };
  for (const [key, value] of Object.entries(json)) {
    const field = FILE_KEYS[key];
    if (field === undefined) {
      throw new InputError(
        `${file}: unknown key "${key}" (expected ${Object.keys(FILE_KEYS).join(", ")})`,
      );
    }
    const list = Array.isArray(value) ? value : [value];
    grid[field] = gridList(field, list.map((v) => (v === null ? "all" : String(v))).join(","));
  }
  return grid as TuneGrid;
}

export function registerTune(program: Command, io: CliIO): void {
  program
    .command("tune")
    .summary("find the DeepConf settings that keep accuracy and save the most tokens, on a laptop")
    .description(
      "Replays every combination of a grid of DeepConf settings over the complete traces of a " +
        "baseline or offline run (deepconf run --method baseline --budget B: the only GPU cost) " +
        "and scores each against the labels: accuracy, recall on should-refuse prompts, " +
        "over-refusal, tokens and savings against the run's own measured Cons@B, each with a " +
        "seeded bootstrap 95% interval over instances. Prints the Pareto frontier of accuracy vs " +
        "tokens and the cheapest settings whose accuracy reaches the baseline's interval, and " +
        `writes ${TUNING} into each run directory (drawn by deepconf figures / report as the ` +
        "tuning-frontier figure). RUN is a run directory or a pool file (deepconf pool export) " +
        'with "should_refuse" labels.',
    )
    .argument("<runs...>", "run directories (baseline/offline method) or pool files")
    .option(
      "--grid <file>",
      "YAML/JSON grid: lists under window, eta, warmup, tau, min_voters, budget",
    )
    .option("--window <list>", "window sizes in tokens", "16,32,64")
    .option("--eta <list>", "keep-percentages (10 = DeepConf-low, 90 = DeepConf-high)", "10,90")
    .option("--warmup <list>", "warmup traces", "4,8")
    .option("--tau <list>", "consensus shares (1 disables early consensus)", "0.9,0.95,1")
    .option("--min-voters <list>", "voters the consensus check needs", "1,2,3")
    .option("--budget <list>", 'trace budgets ("all": every recorded trace)', "all")
    .option(
      "--topk <k>",
      "pool files of log-probs: top-k for token confidence",
      positiveInteger,
      DEFAULT_TOPK,
    )
    .option("--resamples <n>", "bootstrap resamples", positiveInteger, 1000)
    .option("--seed <n>", "bootstrap seed", nonNegativeInteger, 0)
    .option(
      "--shuffle-seeds <n>",
      "repeat the replay over n seeded orderings of each instance's traces and report the spread",
      nonNegativeInteger,
      0,
    )
    .option("--no-save", `do not write ${TUNING} into the run directories`)
    .option("--json", "print the whole result as one JSON document")
    .action(async (paths: string[], flags: TuneFlags) => {
      const fromFlags = gridFromFlags(flags);
      const grid = flags.grid === undefined ? fromFlags : gridFromFile(flags.grid, fromFlags);
      const sources = await loadSources(paths, flags.topk);
      const result = tune(sources.instances, {
        grid,
        topk: sources.topk,
        resamples: flags.resamples,
        seed: flags.seed,
        shuffleSeeds: flags.shuffleSeeds,
      });
      const document: TuningDocument = { sources: paths, notes: sources.notes, ...result };
      if (flags.save) {
        for (const dir of sources.runDirs) {
          await writeFile(join(dir, TUNING), `${JSON.stringify(document, null, 2)}\n`);
        }
      }
      io.stdout(
        flags.json ? `${JSON.stringify(document)}\n` : tuneText(paths, result, sources.notes),
      );
    });

  program
    .command("pool")
    .summary("pools of recorded traces")
    .command("export")
    .summary("write a run's traces and token confidences as a pool file")
    .description(
      "Writes a baseline or offline run directory as a pool: one JSON line per trace, " +
        '{"instance_id", "trace_id", "answer" (from the recorded refusal verdict: "refusal", ' +
        '"compliance" or null), "should_refuse", "k", "confidences": [C_i ...]}. deepconf replay ' +
        "and deepconf tune read it like the run directory.",
    )
    .argument("<run>", "run directory")
    .option("--out <file>", "write here instead of stdout")
    .action(async (run: string, flags: { out?: string }) => {
      const pool = await readRunPool(run);
      for (const note of pool.notes) io.stderr(`deepconf: ${note}\n`);
      if (flags.out === undefined) {
        io.stdout([...poolLines(pool)].join(""));
        return;
      }
      const written = await exportPool(pool, flags.out);
      io.stderr(
        `deepconf: wrote ${written.traces} traces of ${written.instances} instances to ${flags.out}\n`,
      );
    });
}

/** Builds the `deepconf` command line and runs it, mapping errors to exit codes. */
import { Command, CommanderError } from "commander";
import { ExitStatus, InputError } from "../errors.js";
import { registerAnalyze } from "./analyze.js";
import { registerCollect } from "./collect.js";
import { registerDashboard } from "./dashboard.js";
import { registerDatasets } from "./datasets.js";
import { registerFigures } from "./figures.js";
import { registerGenerate } from "./generate.js";
import { type CliIO, processIO } from "./io.js";
import { registerModel } from "./model.js";
import { registerNodes } from "./nodes.js";
import { registerRefusal } from "./refusal.js";
import { registerReplay } from "./replay.js";
import { registerReport } from "./report.js";
import { registerRescore } from "./rescore.js";
import { registerRun } from "./run.js";
import { registerScaling } from "./scaling.js";
import { registerSweep } from "./sweep.js";
import { registerTune } from "./tune.js";
import { registerWorker } from "./worker.js";

/** Exit codes: 0 success, 1 internal error (a bug), 2 bad input or usage. */
export const EXIT_OK = 0;
export const EXIT_BUG = 1;
export const EXIT_INPUT = 2;

const VERSION = "0.1.0";

export function buildProgram(io: CliIO): Command {
  const program = new Command("deepconf")
    .description("DeepConf (Deep Think with Confidence) for LLM safety experiments")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    // Options after a subcommand belong to it (`analyze scaling --json` is scaling's --json).
    .enablePositionalOptions();
  registerReplay(program, io);
  registerTune(program, io);
  registerGenerate(program, io);
  registerModel(program, io);
  registerDatasets(program, io);
  registerRefusal(program, io);
  registerRun(program, io);
  registerRescore(program, io);
  const { analyze } = registerAnalyze(program, io);
  registerScaling(analyze, io);
  registerFigures(program, io);
  registerReport(program, io);
  registerSweep(program, io);
  registerWorker(program, io);
  registerNodes(program, io);
  registerCollect(program, io);
  registerDashboard(program, io);
  const configure = (command: Command) => {
    command.configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride();
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/** Runs the CLI on argv (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (usage, --help, --version).
      return error.exitCode === 0 ? EXIT_OK : EXIT_INPUT;
    }
    if (error instanceof ExitStatus) return error.code;
    if (error instanceof InputError) {
      io.stderr(`deepconf: ${error.message}\n`);
      return EXIT_INPUT;
    }
    io.stderr(`deepconf: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_BUG;
  }
}

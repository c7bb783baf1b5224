/**
 * Runs `deepconf datasets ...` in-process as program.ts would (exit 2 for input errors), with
 * the hub settings of a test. (The shared helper in support/cli.ts builds the whole program.)
 */
import { Command, CommanderError } from "commander";
import { registerDatasets } from "../../src/cli/datasets.js";
import type { CliIO } from "../../src/cli/io.js";
import { InputError } from "../../src/errors.js";
import type { HubClientOptions } from "../../src/hf/index.js";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function datasetsCli(args: string[], hub?: HubClientOptions): Promise<Run> {
  return hubCli((program, io) => registerDatasets(program, io, { hub }), ["datasets", ...args]);
}

/** Runs the commands `register` adds, in-process, with `args` (command name first). */
export async function hubCli(
  register: (program: Command, io: CliIO) => void,
  args: string[],
): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: (text: string) => {
      stdout += text;
    },
    stderr: (text: string) => {
      stderr += text;
    },
  };
  const program = new Command("deepconf");
  register(program, io);
  const configure = (command: Command) => {
    command.configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride();
    command.commands.forEach(configure);
  };
  configure(program);
  let code = 0;
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : 2;
    else if (error instanceof InputError) {
      stderr += `deepconf: ${error.message}\n`;
      code = 2;
    } else throw error;
  }
  return { code, stdout, stderr };
}

/** Runs the deepconf CLI in-process and captures what it prints. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/program.js";
import { testTempDir } from "./tiny-model.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function deepconf(...argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

/** Writes text to a new file in a fresh temporary directory and returns its path. */
export function tempFile(name: string, text: string): string {
  const path = join(testTempDir(), name);
  writeFileSync(path, text);
  return path;
}

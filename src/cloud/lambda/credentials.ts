import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { InputError } from "../../errors.js";

export const API_KEYS_PAGE = "https://cloud.lambda.ai/api-keys";

export interface ResolvedApiKey {
  key: string;
  /** Where the key came from, for messages: never the key itself. */
  source: string;
}

/** `~/.lambda_cloud/lambda_keys`, where Lambda's own tools (and SkyPilot) keep the key. */
export function keysFilePath(home: string = homedir()): string {
  return join(home, ".lambda_cloud", "lambda_keys");
}

/**
 * The Lambda Cloud API key: LAMBDA_API_KEY first, else the `api_key = ...` line of the keys
 * file. Throws an InputError that says how to get and set a key when there is none.
 */
export function resolveApiKey({
  env = process.env,
  home = homedir(),
}: {
  env?: NodeJS.ProcessEnv;
  home?: string;
} = {}): ResolvedApiKey {
  const fromEnv = env.LAMBDA_API_KEY?.trim();
  if (fromEnv) return { key: fromEnv, source: "the LAMBDA_API_KEY environment variable" };

  const file = keysFilePath(home);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      throw new InputError(
        `cannot read ${file} (${code ?? "unknown error"}). ${howToSetKey(file)}`,
      );
    }
    throw new InputError(`no Lambda Cloud API key found. ${howToSetKey(file)}`);
  }
  const key = apiKeyLine(text);
  if (key === null) {
    throw new InputError(`${file} has no "api_key = ..." line. ${howToSetKey(file)}`);
  }
  return { key, source: file };
}

/** The value of the last `api_key = value` line; `#` starts a comment, quotes are optional. */
function apiKeyLine(text: string): string | null {
  let key: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, "").trim();
    const match = /^api_key\s*[=:]\s*(.*)$/.exec(line);
    const value = match?.[1]?.replace(/^(["'])(.*)\1$/, "$2").trim();
    if (value) key = value;
  }
  return key;
}

function howToSetKey(file: string): string {
  return (
    `Create an API key at ${API_KEYS_PAGE}, then either export LAMBDA_API_KEY=<your key> ` +
    `or write the line "api_key = <your key>" into ${file} (and chmod 600 it).`
  );
}

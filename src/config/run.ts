/**
 * What the user asked of `deepconf run`: the `--config` file's params and refusal patterns, then
 * the parameter flags, which win. Flags go through the same schema as files, so a flag error and
 * a file error read alike ("--warmup: params.warmup: ..." / "run.yaml: params.warmup: ...").
 */
import type { RefusalOptions } from "../safety/refusal/index.js";
import { readConfigFile } from "./file.js";
import {
  mergeOverrides,
  type ParamOrigins,
  type ParamOverrides,
  parseParamOverrides,
} from "./params.js";

/** The `deepconf run` flags that set a run parameter, by parameter. */
export const PARAM_FLAGS = {
  window: "--window",
  warmup: "--warmup",
  budget: "--budget",
  eta: "--eta",
  tau: "--tau",
  minVoters: "--min-voters",
  maxNewTokens: "--max-new-tokens",
  parallel: "--parallel",
  thinking: "--thinking",
  abstainAs: "--abstain-as",
} as const;

/** Flag values as commander hands them over: text, or true for a switch. */
export type ParamFlags = { [K in keyof typeof PARAM_FLAGS]?: string | boolean };

/** Text that reads as a number becomes one; anything else is left for the schema to reject. */
function flagValue(value: string | boolean): unknown {
  if (typeof value === "boolean") return value;
  const text = value.trim();
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : value;
}

/** Validates the parameter flags; `--window` also sets the tail unless the tail is given. */
export function paramsFromFlags(flags: ParamFlags): {
  params: ParamOverrides;
  origins: ParamOrigins;
} {
  const raw: Record<string, unknown> = {};
  const origins: ParamOrigins = {};
  for (const [key, flag] of Object.entries(PARAM_FLAGS)) {
    const value = flags[key as keyof ParamFlags];
    if (value === undefined) continue;
    raw[key] = flagValue(value);
    origins[key] = { source: "flag", where: flag };
  }
  const params = parseParamOverrides(raw, (path) => origins[String(path[0])]?.where ?? "flags");
  return { params, origins };
}

export interface UserRunConfig {
  /** The user's parameter values, file and flags merged (not yet laid over the preset). */
  overrides: ParamOverrides;
  origins: ParamOrigins;
  /** Refusal patterns of the config file; undefined without one. */
  refusal?: RefusalOptions;
}

/** Reads `--config` (if any) and the parameter flags into one validated set of overrides. */
export function userRunConfig(configPath: string | undefined, flags: ParamFlags): UserRunConfig {
  const file = configPath === undefined ? null : readConfigFile(configPath);
  const fromFlags = paramsFromFlags(flags);
  const overrides = mergeOverrides(file?.params ?? {}, fromFlags.params);
  const origins = { ...file?.origins, ...fromFlags.origins };
  if (fromFlags.params.window !== undefined && overrides.tail === undefined) {
    overrides.tail = fromFlags.params.window;
    origins.tail = { source: "flag", where: PARAM_FLAGS.window };
  }
  return { overrides, origins, refusal: file?.refusal ?? undefined };
}

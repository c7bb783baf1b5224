/**
 * Run parameters: one zod schema for every place they come from (flags, `--config` files and,
 * later, sweep files), and the one function that lays them over the method preset, picks the
 * sampling defaults and rejects impossible combinations. The schema pieces are exported so a
 * sweep schema can extend them.
 *
 * Keys are the camelCase names of MethodParams, as the manifest records them. Objects are strict:
 * an unknown key is an error that names the nearest known key ("did you mean minVoters").
 */
import { z } from "zod";
import type { FilterKind } from "../engine/types.js";
import { InputError } from "../errors.js";
import { QWEN3_SAMPLING, type SamplingOptions } from "../inference/sampling.js";
import {
  ABSTAIN_AS,
  isMethod,
  METHOD_PRESETS,
  METHODS,
  type MethodParams,
} from "../safety/methods.js";

/** The confidences the offline vote can filter by (src/engine/voting.ts topEta). */
export const FILTER_KINDS = ["tail", "bottom10", "lowest"] as const satisfies readonly FilterKind[];

const count = () => z.number().int().min(1);

/** Sampling fields (SamplingOptions); temperature 0 means greedy. */
export const samplingFields = {
  greedy: z.boolean(),
  temperature: z.number().min(0),
  topP: z.number().gt(0).max(1),
  topK: count(),
};

/** Every field of MethodParams with its range. */
export const paramFields = {
  window: count(),
  tail: count(),
  topk: count(),
  warmup: count(),
  budget: count(),
  eta: z.number().gt(0).max(100),
  tau: z.number().gt(0).max(1),
  minVoters: count(),
  offlineFilter: z.enum(FILTER_KINDS),
  parallel: count(),
  maxNewTokens: count(),
  sampling: z.strictObject(samplingFields),
  thinking: z.boolean(),
  bucketPercentile: z.number().min(0).max(100),
  abstainAs: z.enum(ABSTAIN_AS),
};

/** Combinations no run can have, whatever each value alone allows. */
export function checkParamCombinations(
  params: Pick<MethodParams, "warmup" | "budget">,
  ctx: z.RefinementCtx,
): void {
  if (params.warmup > params.budget) {
    ctx.addIssue({
      code: "custom",
      path: ["warmup"],
      message: `${params.warmup} warmup traces exceed the budget of ${params.budget} traces (warmup <= budget)`,
    });
  }
}

/** Complete run parameters, as the manifest records them. */
export const methodParamsSchema = z.strictObject(paramFields).superRefine(checkParamCombinations);

/** What a user may give: any subset of the fields, sampling too (deep-merged over the defaults). */
export const paramOverridesSchema = z
  .strictObject({ ...paramFields, sampling: z.strictObject(samplingFields).partial() })
  .partial();

export type ParamOverrides = z.infer<typeof paramOverridesSchema>;

// The schema and the MethodParams interface must not drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesMethodParams: Same<z.infer<typeof methodParamsSchema>, MethodParams> = true;
void schemaMatchesMethodParams;

/** Where a value the user gave came from: `where` is what error messages name. */
export interface ParamOrigin {
  source: "flag" | "config file" | "options";
  /** A file path, a flag ("--budget"), or "options" for programmatic callers. */
  where: string;
}

/** Origins by dotted parameter path ("budget", "sampling.topP"). */
export type ParamOrigins = Record<string, ParamOrigin>;

/** One problem in one place: "<where>: <path>: <problem>". */
export interface ConfigIssue {
  where: string;
  path: string;
  problem: string;
}

/** Invalid run configuration (exit 2); one line per issue. */
export class ConfigError extends InputError {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      issues.map((i) => `${i.where}: ${i.path === "" ? "" : `${i.path}: `}${i.problem}`).join("\n"),
    );
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text === "" ? String(key) : `.${String(key)}`;
  }
  return text;
}

/** The object schema at `path` inside `schema` (through optional / partial wrappers), if any. */
function objectAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodObject | null {
  let current: z.ZodType | undefined = schema;
  for (let i = 0; i <= path.length && current !== undefined; i++) {
    while (current instanceof z.ZodOptional || current instanceof z.ZodNullable)
      current = current.unwrap() as z.ZodType;
    if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    if (i === path.length) return current instanceof z.ZodObject ? current : null;
    if (!(current instanceof z.ZodObject)) return null;
    current = (current.shape as Record<string, z.ZodType>)[String(path[i])];
  }
  return null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known key a misspelt or snake_case one most likely means, if any. */
export function suggestKey(key: string, known: readonly string[]): string | null {
  const camel = key.replace(/[_-]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
  const exact = known.find((k) => k.toLowerCase() === camel.toLowerCase());
  if (exact !== undefined) return exact;
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(camel.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function problemOf(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "invalid_type": {
      const expected =
        issue.expected === "int"
          ? "a whole number"
          : issue.expected === "object"
            ? "a mapping"
            : `a ${issue.expected}`;
      return `expected ${expected}, got ${describe(input)}`;
    }
    case "too_small":
    case "too_big": {
      const number = issue.origin === "int" || issue.origin === "number";
      if (!number) return issue.message;
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      if (Math.abs(Number(bound)) >= Number.MAX_SAFE_INTEGER)
        return `${describe(input)} is too large`;
      const op =
        issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      return `must be ${op} ${String(bound)}, got ${describe(input)}`;
    }
    case "invalid_value":
      return `expected one of ${issue.values.map(String).join(", ")}, got ${describe(input)}`;
    default:
      return issue.message;
  }
}

/**
 * Turns zod issues into ConfigIssues: `prefix` is put before each path ("params"), `whereOf`
 * names the origin of a path; an unknown key becomes one issue per key with a suggestion.
 */
export function configIssues(
  error: z.ZodError,
  schema: z.ZodType,
  whereOf: (path: readonly PropertyKey[]) => string,
  prefix: readonly PropertyKey[] = [],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = Object.keys(objectAt(schema, issue.path)?.shape ?? {});
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const hint = suggestKey(key, known);
        issues.push({
          where: whereOf(path),
          path: formatPath([...prefix, ...path]),
          problem: `unknown key${hint === null ? ` (known: ${known.join(", ")})` : `: did you mean ${hint}?`}`,
        });
      }
    } else {
      issues.push({
        where: whereOf(issue.path),
        path: formatPath([...prefix, ...issue.path]),
        problem: problemOf(issue),
      });
    }
  }
  return issues;
}

/** Validates user-given overrides; errors name `where` (a file, a flag) and the path. */
export function parseParamOverrides(
  value: unknown,
  whereOf: string | ((path: readonly PropertyKey[]) => string),
  prefix: readonly PropertyKey[] = ["params"],
): ParamOverrides {
  const result = paramOverridesSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const where = typeof whereOf === "string" ? () => whereOf : whereOf;
  throw new ConfigError(configIssues(result.error, paramOverridesSchema, where, prefix));
}

/** Layers overrides: later ones win, field by field, sampling included. */
export function mergeOverrides(...layers: readonly ParamOverrides[]): ParamOverrides {
  const merged: ParamOverrides = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (key === "sampling") merged.sampling = { ...merged.sampling, ...(value as object) };
      else Object.assign(merged, { [key]: value });
    }
  }
  return merged;
}

/** The dotted paths of the values an override layer sets ("budget", "sampling.topP"). */
export function overridePaths(overrides: ParamOverrides): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (key === "sampling") {
      for (const [field, v] of Object.entries(value as object))
        if (v !== undefined) paths.push(`sampling.${field}`);
    } else paths.push(key);
  }
  return paths;
}

/** Where a sampling value came from, as the manifest's `sampling_source` records it. */
export type SamplingSource =
  | ParamOrigin["source"]
  | "generation_config.json"
  | "config.json"
  | "qwen3-default"
  | "qwen3-thinking-default";

/** A model's generation settings (Hugging Face names) and the file they were read from. */
export interface GenerationDefaults {
  file: "generation_config.json" | "config.json";
  values: Record<string, unknown>;
}

export interface ResolveParamsOptions {
  method: string;
  /** What the user gave (validated here too). */
  overrides: ParamOverrides;
  /** Origins of the overrides by dotted path; missing ones count as "options". */
  origins?: ParamOrigins;
  /** Defaults between the preset and the user's values (e.g. the built-in model's small ones). */
  base?: Partial<Omit<MethodParams, "sampling">>;
  /** The model's generation config, when known: it supplies the sampling defaults. */
  generation?: GenerationDefaults | null;
}

export interface ResolvedParams {
  params: MethodParams;
  samplingSource: Record<keyof SamplingOptions, SamplingSource>;
  /** Things worth telling the user (a generation config value that was not used). */
  notes: string[];
}

type SamplingKey = keyof SamplingOptions;

/** Sampling defaults from a generation config (HF names); unusable values become notes. */
function generationSampling(
  generation: GenerationDefaults,
  notes: string[],
): Partial<SamplingOptions> {
  const { values, file } = generation;
  const out: Partial<SamplingOptions> = {};
  const take = <K extends SamplingKey>(hfName: string, key: K, check: z.ZodType) => {
    const value = values[hfName];
    if (value === undefined || value === null) return;
    if (check.safeParse(value).success) out[key] = value as SamplingOptions[K];
    else notes.push(`${file}: ${hfName} ${describe(value)} is not usable here; ignored`);
  };
  take("temperature", "temperature", samplingFields.temperature);
  take("top_p", "topP", samplingFields.topP);
  take("top_k", "topK", samplingFields.topK);
  if (values.do_sample === false) out.greedy = true;
  else if (values.do_sample === true) out.greedy = false;
  return out;
}

/**
 * The parameters of one run: the method preset, then `base`, then the user's overrides (sampling
 * field by field). Sampling values the user did not give come from the model's generation config,
 * else from Qwen3's recommendation (thinking or plain). An explicit warmup above the budget is an
 * error; a preset warmup above a smaller budget is lowered to it. Throws ConfigError.
 */
export function resolveParams(options: ResolveParamsOptions): ResolvedParams {
  const { method } = options;
  if (!isMethod(method)) {
    throw new InputError(`unknown method "${method}": choose one of ${METHODS.join(", ")}`);
  }
  const origins = options.origins ?? {};
  const whereOf = (path: readonly PropertyKey[]): string => {
    for (let n = path.length; n > 0; n--) {
      const origin = origins[formatPath(path.slice(0, n))];
      if (origin !== undefined) return origin.where;
    }
    return "options";
  };
  const overrides = parseParamOverrides(options.overrides, whereOf);
  const sourceOf = (path: string): ParamOrigin["source"] => origins[path]?.source ?? "options";
  const notes: string[] = [];

  const { sampling: userSampling = {}, ...rest } = overrides;
  const params: MethodParams = {
    ...METHOD_PRESETS[method],
    ...options.base,
    ...rest,
    sampling: { ...METHOD_PRESETS[method].sampling },
  };
  if (rest.warmup === undefined && params.warmup > params.budget) params.warmup = params.budget;

  const fallback = QWEN3_SAMPLING[params.thinking ? "thinking" : "plain"];
  const fallbackSource = params.thinking ? "qwen3-thinking-default" : "qwen3-default";
  const fromModel = options.generation ? generationSampling(options.generation, notes) : {};
  const samplingSource = {} as Record<SamplingKey, SamplingSource>;
  const sampling = {} as SamplingOptions;
  const choose = <K extends SamplingKey>(key: K) => {
    const user = userSampling[key];
    const model = fromModel[key];
    if (user !== undefined) {
      sampling[key] = user as SamplingOptions[K];
      samplingSource[key] = sourceOf(`sampling.${key}`);
    } else if (model !== undefined) {
      sampling[key] = model as SamplingOptions[K];
      samplingSource[key] = (options.generation as GenerationDefaults).file;
    } else {
      sampling[key] = fallback[key] as SamplingOptions[K];
      samplingSource[key] = fallbackSource;
    }
  };
  for (const key of ["greedy", "temperature", "topP", "topK"] as const) choose(key);
  // Sampling values the user gives mean sampling, unless greedy is given too; temperature 0 is
  // greedy (the sampler divides by the temperature).
  const explicit = (["temperature", "topP", "topK"] as const).find(
    (key) => userSampling[key] !== undefined,
  );
  if (userSampling.greedy === undefined && explicit !== undefined && sampling.greedy) {
    sampling.greedy = false;
    samplingSource.greedy = sourceOf(`sampling.${explicit}`);
  }
  if (sampling.temperature === 0 && !sampling.greedy) {
    sampling.greedy = true;
    samplingSource.greedy = samplingSource.temperature;
  }
  params.sampling = sampling;

  const checked = methodParamsSchema.safeParse(params, { reportInput: true });
  if (!checked.success)
    throw new ConfigError(configIssues(checked.error, methodParamsSchema, whereOf, ["params"]));
  return { params: checked.data, samplingSource, notes };
}

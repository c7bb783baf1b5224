/**
 * `deepconf run` without the command line: turn the options into a JobSpec, load the model and
 * benchmark, open (or resume) the run directory, run the job, write the summary.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ParamOrigins, type ParamOverrides, resolveParams } from "../config/params.js";
import { type FieldMap, parseBenchmarkSpec, SAMPLE_VERSION } from "../datasets/index.js";
import { parseRepoSpec } from "../hf/index.js";
import { cacheDirFromEnv } from "../hf/settings.js";
import {
  type Dtype,
  type ResolvedModel,
  resolveModel,
  sha256OfFile,
} from "../inference/model/index.js";
import type { Device } from "../inference/session.js";
import { CLASSIFIER_PREFIX, parseJudgeSpec } from "../safety/judge/index.js";
import type { Method, MethodParams } from "../safety/methods.js";
import type { RefusalOptions } from "../safety/refusal/index.js";
import type { PredictionRecord } from "../safety/types.js";
import { RunDirectory } from "./directory.js";
import { type JobOutcome, runJob } from "./job.js";
import { runManifest } from "./manifest.js";
import { builtinModelDir, JobResources } from "./resources.js";
import { BUILTIN_MODEL, type JobSpec, runIdOf } from "./spec.js";
import { type RunSummary, summarize } from "./summary.js";

export { BUILTIN_MODEL };

/** Small settings for the built-in model, so the embedded default finishes in seconds. */
export const BUILTIN_MODEL_PARAMS: Partial<MethodParams> = {
  maxNewTokens: 24,
  budget: 8,
  warmup: 4,
  parallel: 4,
  window: 8,
  tail: 8,
};

export interface StartRunOptions {
  /** Model folder or hub id; null: the built-in test model. */
  model: string | null;
  benchmark: string;
  method: Method;
  /** The user's parameter values (validated again here) and where each came from. */
  overrides: ParamOverrides;
  origins?: ParamOrigins;
  seed: number;
  limit: number | null;
  /** Measure Cons@B by also generating the budget's complete traces; default: built-in only. */
  measureBaseline?: boolean;
  dtype: Dtype;
  device: Device;
  threads?: number;
  /** Traces decoding at once across instances; unset: the per-instance loop. */
  maxRows?: number;
  cacheDir?: string;
  offline?: boolean;
  /** Parent of run directories (default ./runs) and an explicit run id. */
  out?: string;
  runId?: string;
  refusal?: RefusalOptions;
  /** A classifier judge beside the rules: "classifier:HUB_ID|PATH". */
  judge?: string | null;
  /** Column mapping of local benchmark files. */
  fieldMap?: FieldMap;
  signal?: AbortSignal;
  onNote?: (note: string) => void;
  onStart?: (done: number, total: number) => void;
  onProgress?: (done: number, total: number, prediction: PredictionRecord) => void;
  onDownload?: (file: string, done: number, total: number) => void;
}

export interface StartedRun {
  dir: string;
  summary: RunSummary;
  outcome: JobOutcome;
  builtinModel: boolean;
}

/**
 * The spec's model (the built-in; a local folder with its content hash; a hub id pinned to the
 * commit it resolved to) and its resolved files, whose generation config sets sampling defaults.
 * A hub model is downloaded here (with progress) if it is not in the cache yet.
 */
async function resolveSpecModel(
  options: StartRunOptions,
  cacheDir: string,
): Promise<{ ref: JobSpec["model"]; resolved: ResolvedModel }> {
  const resolveOptions = {
    dtype: options.dtype,
    cacheDir,
    offline: options.offline,
    onProgress: options.onDownload,
  };
  if (options.model === null) {
    const resolved = await resolveModel(await builtinModelDir(cacheDir), resolveOptions);
    return { ref: { id: BUILTIN_MODEL, revision: null, hash: null }, resolved };
  }
  const resolved = await resolveModel(options.model, resolveOptions);
  if (resolved.source === "local") {
    return {
      ref: { id: resolve(options.model), revision: null, hash: resolved.fileHash },
      resolved,
    };
  }
  const { id, revision } = parseRepoSpec(options.model);
  return { ref: { id, revision: resolved.sha ?? revision, hash: null }, resolved };
}

async function benchmarkRef(spec: string): Promise<JobSpec["benchmark"]> {
  const parsed = parseBenchmarkSpec(spec);
  if (parsed.kind === "sample") return { spec: parsed.spec, revision: SAMPLE_VERSION };
  if (parsed.kind === "local") {
    const path = resolve(parsed.path);
    const revision = existsSync(path) ? `sha256:${await sha256OfFile(path)}` : null;
    return { spec: `${parsed.format}:${path}`, revision };
  }
  const at = parsed.spec.indexOf("@");
  return { spec: parsed.spec, revision: at < 0 ? null : parsed.spec.slice(at + 1) };
}

export interface RunSpec {
  spec: JobSpec;
  /** Where each sampling value came from (flag, config file, generation_config.json, default). */
  samplingSource: Record<string, string>;
  notes: string[];
}

/**
 * The JobSpec of a `deepconf run`: every instance of the benchmark (up to --limit). Parameters
 * are checked before anything is built or downloaded; sampling defaults need the model's files.
 */
export async function runSpec(options: StartRunOptions, cacheDir: string): Promise<RunSpec> {
  const builtin = options.model === null;
  const paramOptions = {
    method: options.method,
    overrides: options.overrides,
    origins: options.origins,
    base: builtin ? BUILTIN_MODEL_PARAMS : {},
  };
  resolveParams(paramOptions);
  const benchmark = await benchmarkRef(options.benchmark);
  const { ref, resolved } = await resolveSpecModel(options, cacheDir);
  // Sampling defaults come from the model's generation config (the user's values win).
  const { params, samplingSource, notes } = resolveParams({
    ...paramOptions,
    generation: { file: resolved.generationConfigFile, values: resolved.generationConfig },
  });
  const spec: JobSpec = {
    version: 1,
    model: ref,
    dtype: options.dtype,
    device: options.device,
    benchmark,
    method: options.method,
    params,
    seed: options.seed,
    refusal: options.refusal ?? null,
    ...(options.judge ? { judge: judgeSpecOf(options.judge) } : {}),
    fieldMap: options.fieldMap ?? null,
    // The built-in model is cheap: measure the honest baseline there by default.
    measureBaseline: options.measureBaseline ?? builtin,
    selection: { limit: options.limit, shard: null, ids: null },
  };
  return { spec, samplingSource, notes };
}

/** A judge spec checked, with a local folder made absolute (the spec may travel to workers). */
function judgeSpecOf(spec: string): string {
  const { target } = parseJudgeSpec(spec);
  return existsSync(target) ? `${CLASSIFIER_PREFIX}${resolve(target)}` : spec;
}

export async function startRun(options: StartRunOptions): Promise<StartedRun> {
  const cacheDir = options.cacheDir ?? cacheDirFromEnv();
  const { spec, samplingSource, notes } = await runSpec(options, cacheDir);
  for (const note of notes) options.onNote?.(note);
  const resources = new JobResources({
    cacheDir,
    offline: options.offline,
    threads: options.threads,
    maxRows: options.maxRows,
    onNote: options.onNote,
    onDownload: options.onDownload,
  });
  try {
    const [model, benchmark] = await Promise.all([
      resources.model(spec),
      resources.benchmark(spec),
    ]);
    const runId = options.runId ?? runIdOf(spec);
    const directory = await RunDirectory.open(
      join(options.out ?? "runs", runId),
      runManifest(spec, {
        runId,
        samplingSource,
        model: {
          dir: model.info.dir,
          ...model.info.source,
          device: model.info.device,
          parameters: model.info.parameters,
        },
        benchmark: { ...benchmark, instances: benchmark.items.length },
      }),
    );
    try {
      for (const note of directory.notes) options.onNote?.(note);
      const finished = new Set(directory.finished.map((p) => p.instance_id));
      options.onStart?.(finished.size, benchmark.items.length);
      const outcome = await runJob(
        spec,
        {
          finished,
          append: async (prediction, confidences) => {
            await directory.append({ ...prediction, run_id: runId }, confidences);
            finished.add(prediction.instance_id);
          },
          progress: options.onProgress,
        },
        { resources, signal: options.signal },
      );
      const summary = summarize(
        directory.finished,
        spec.params.bucketPercentile,
        benchmark.items.length,
        spec.params.abstainAs,
      );
      await directory.writeSummary(summary);
      const builtinModel = spec.model.id === BUILTIN_MODEL;
      return { dir: directory.dir, summary, outcome, builtinModel };
    } finally {
      directory.close();
    }
  } finally {
    await resources.close();
  }
}

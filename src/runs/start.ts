/**
 * `deepconf run` without the command line: resolve the model (or build the test model),
 * load the benchmark, open (or resume) the run directory, run the job, write the summary.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type FieldMap, loadBenchmark } from "../datasets/index.js";
import { cacheDirFromEnv } from "../hf/settings.js";
import type { Dtype } from "../inference/model/index.js";
import { type LoadedModel, loadModel } from "../inference/model.js";
import type { Device } from "../inference/session.js";
import { buildTestModel } from "../inference/testmodel/index.js";
import { type Method, type MethodParams, methodParams } from "../safety/methods.js";
import type { RefusalOptions } from "../safety/refusal/index.js";
import type { PredictionRecord } from "../safety/types.js";
import { RunDirectory, type RunManifest } from "./directory.js";
import { type JobOutcome, runJob } from "./job.js";
import { type RunSummary, summarize } from "./summary.js";

/** The model used when none is given: the project's tiny test model, random weights. */
export const BUILTIN_MODEL = "builtin:qwen3-tiny";

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
  overrides: Partial<MethodParams>;
  seed: number;
  limit: number | null;
  measureBaseline: boolean;
  dtype: Dtype;
  device: Device;
  threads?: number;
  cacheDir?: string;
  offline?: boolean;
  /** Parent of run directories (default ./runs) and an explicit run id. */
  out?: string;
  runId?: string;
  refusal?: RefusalOptions;
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

const slug = (text: string) =>
  text
    .replace(/^.*[\\/](?=[^\\/]+[\\/]?$)/, "")
    .replace(/[^A-Za-z0-9.]+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase()
    .slice(0, 40);

function packageVersion(name: string): string | null {
  try {
    const url = import.meta.resolve(`${name}/package.json`);
    return JSON.parse(readFileSync(new URL(url), "utf8")).version ?? null;
  } catch {
    return null;
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return null;
  }
}

async function builtinModelDir(cacheDir: string): Promise<string> {
  const dir = join(cacheDir, "test-models", "tiny-seed0");
  if (!existsSync(join(dir, "config.json")))
    await buildTestModel({ out: dir, shape: "tiny", seed: 0, overwrite: true });
  return dir;
}

export async function startRun(options: StartRunOptions): Promise<StartedRun> {
  const cacheDir = options.cacheDir ?? cacheDirFromEnv();
  const builtin = options.model === null;
  const modelSpec = builtin ? await builtinModelDir(cacheDir) : (options.model as string);
  const params = methodParams(options.method, {
    ...(builtin ? BUILTIN_MODEL_PARAMS : {}),
    ...options.overrides,
  });
  const benchmark = await loadBenchmark(options.benchmark, {
    cacheDir,
    offline: options.offline,
    limit: options.limit ?? undefined,
    fieldMap: options.fieldMap,
    onProgress: options.onDownload,
  });
  for (const note of benchmark.notes) options.onNote?.(note);
  const loaded: LoadedModel = await loadModel(modelSpec, {
    dtype: options.dtype,
    device: options.device,
    threads: options.threads,
    topk: Math.max(params.topk, params.sampling.topK),
    cacheDir,
    offline: options.offline,
    onProgress: options.onDownload,
  });
  for (const note of loaded.notes) options.onNote?.(note);

  const modelName = builtin ? BUILTIN_MODEL : modelSpec;
  // Predictions name the model as the user gave it (or the built-in's name), not a cache path.
  const model: LoadedModel = { ...loaded, name: modelName };
  const config = {
    model: modelName,
    model_file_hash: model.source.fileHash,
    benchmark: benchmark.spec,
    benchmark_revision: benchmark.source.sha ?? benchmark.source.sha256 ?? null,
    method: options.method,
    params,
    seed: options.seed,
    limit: options.limit,
    measure_baseline: options.measureBaseline,
    refusal: options.refusal ?? null,
    field_map: options.fieldMap ?? null,
  };
  const hash = createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 8);
  const runId =
    options.runId ?? `${slug(benchmark.name)}-${slug(modelName)}-${options.method}-${hash}`;
  const manifest: RunManifest = {
    run_id: runId,
    created_at: new Date().toISOString(),
    config,
    model: {
      name: modelName,
      dir: model.dir,
      ...model.source,
      device: model.device,
      parameters: model.parameters,
      random_weights: builtin,
    },
    dataset: {
      spec: benchmark.spec,
      source: benchmark.source,
      available: benchmark.available,
      instances: benchmark.items.length,
      skipped: benchmark.skipped,
    },
    seeds: {
      run: options.seed,
      per_instance: 'fnv1a("<seed>:<instance_id>"); trace t uses random stream t of it',
    },
    versions: {
      "deepconf-safety": packageVersion("deepconf-safety"),
      node: process.version,
      "onnxruntime-node": packageVersion("onnxruntime-node"),
      "@huggingface/transformers": packageVersion("@huggingface/transformers"),
    },
    git_commit: gitCommit(),
  };
  const directory = await RunDirectory.open(join(options.out ?? "runs", runId), manifest);
  for (const note of directory.notes) options.onNote?.(note);
  options.onStart?.(directory.finished.length, benchmark.items.length);
  const outcome = await runJob(
    {
      model,
      benchmark,
      method: options.method,
      params,
      seed: options.seed,
      measureBaseline: options.measureBaseline,
      refusal: options.refusal,
    },
    {
      finished: directory.finished,
      append: (prediction) => directory.append(prediction),
      progress: options.onProgress,
    },
    options.signal,
  );
  await model.decoder.session.release();
  const summary = summarize(
    directory.finished,
    params.bucketPercentile,
    benchmark.items.length,
    params.abstainAs,
  );
  await directory.writeSummary(summary);
  return { dir: directory.dir, summary, outcome, builtinModel: builtin };
}

/**
 * `deepconf run` without the command line: turn the options into a JobSpec, load the model and
 * benchmark, open (or resume) the run directory, run the job, write the summary.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type FieldMap, parseBenchmarkSpec, SAMPLE_VERSION } from "../datasets/index.js";
import { parseRepoSpec } from "../hf/index.js";
import { cacheDirFromEnv } from "../hf/settings.js";
import { type Dtype, resolveModel, sha256OfFile } from "../inference/model/index.js";
import type { Device } from "../inference/session.js";
import { type Method, type MethodParams, methodParams } from "../safety/methods.js";
import type { RefusalOptions } from "../safety/refusal/index.js";
import type { PredictionRecord } from "../safety/types.js";
import { RunDirectory, type RunManifest } from "./directory.js";
import { type JobOutcome, runJob } from "./job.js";
import { JobResources, type RunModel } from "./resources.js";
import { BUILTIN_MODEL, type JobSpec, manifestConfig, runIdOf } from "./spec.js";
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
  overrides: Partial<MethodParams>;
  seed: number;
  limit: number | null;
  /** Measure Cons@B by also generating the budget's complete traces; default: built-in only. */
  measureBaseline?: boolean;
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

/** The spec's model: the built-in, a local folder with its content hash, or a hub id@revision. */
async function modelRef(options: StartRunOptions, cacheDir: string): Promise<JobSpec["model"]> {
  if (options.model === null) return { id: BUILTIN_MODEL, revision: null, hash: null };
  if (existsSync(options.model)) {
    const local = await resolveModel(options.model, { dtype: options.dtype, cacheDir });
    return { id: resolve(options.model), revision: null, hash: local.fileHash };
  }
  try {
    const { id, revision } = parseRepoSpec(options.model);
    return { id, revision, hash: null };
  } catch {
    // Not an id either: resolveModel says what is wrong with it.
    await resolveModel(options.model, { dtype: options.dtype, cacheDir, offline: true });
    throw new Error(`unreachable: ${options.model} resolved`);
  }
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

/** The JobSpec of a `deepconf run`: every instance of the benchmark (up to --limit). */
export async function runSpec(options: StartRunOptions, cacheDir: string): Promise<JobSpec> {
  const builtin = options.model === null;
  return {
    version: 1,
    model: await modelRef(options, cacheDir),
    dtype: options.dtype,
    device: options.device,
    benchmark: await benchmarkRef(options.benchmark),
    method: options.method,
    params: methodParams(options.method, {
      ...(builtin ? BUILTIN_MODEL_PARAMS : {}),
      ...options.overrides,
    }),
    seed: options.seed,
    refusal: options.refusal ?? null,
    fieldMap: options.fieldMap ?? null,
    // The built-in model is cheap: measure the honest baseline there by default.
    measureBaseline: options.measureBaseline ?? builtin,
    selection: { limit: options.limit, shard: null, ids: null },
  };
}

/** manifest.json of a run: its identity (`config`), the full spec, and where things came from. */
export function runManifest(
  spec: JobSpec,
  model: RunModel,
  benchmark: Awaited<ReturnType<JobResources["benchmark"]>>,
  runId = runIdOf(spec),
): RunManifest {
  return {
    run_id: runId,
    created_at: new Date().toISOString(),
    config: manifestConfig(spec),
    spec,
    model: {
      name: spec.model.id,
      dir: model.info.dir,
      ...model.info.source,
      device: model.info.device,
      parameters: model.info.parameters,
      random_weights: spec.model.id === BUILTIN_MODEL,
    },
    dataset: {
      spec: benchmark.spec,
      source: benchmark.source,
      available: benchmark.available,
      instances: benchmark.items.length,
      skipped: benchmark.skipped,
    },
    seeds: {
      run: spec.seed,
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
}

export async function startRun(options: StartRunOptions): Promise<StartedRun> {
  const cacheDir = options.cacheDir ?? cacheDirFromEnv();
  const spec = await runSpec(options, cacheDir);
  const resources = new JobResources({
    cacheDir,
    offline: options.offline,
    threads: options.threads,
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
      runManifest(spec, model, benchmark, runId),
    );
    const finished = new Set(directory.finished.map((p) => p.instance_id));
    options.onStart?.(finished.size, benchmark.items.length);
    const outcome = await runJob(
      spec,
      {
        finished,
        append: async (prediction) => {
          await directory.append({ ...prediction, run_id: runId });
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
    );
    await directory.writeSummary(summary);
    return { dir: directory.dir, summary, outcome, builtinModel: spec.model.id === BUILTIN_MODEL };
  } finally {
    await resources.close();
  }
}

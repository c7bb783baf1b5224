/**
 * Models and benchmarks a process has loaded, cached by what identifies them, so the shards of
 * one model reuse one session (a queue worker keeps its model between jobs). Each model lives in
 * a DecoderThread: inference never blocks this process's event loop (lock renewals, progress).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type FieldMap, loadBenchmark } from "../datasets/index.js";
import type { LoadedBenchmark } from "../datasets/types.js";
import { resolveModel } from "../inference/model/index.js";
import { buildTestModel } from "../inference/testmodel/index.js";
import { DecoderThread, type ThreadInfo } from "../inference/thread.js";
import type { TraceSampler } from "../safety/instance.js";
import { type ClassifierJudge, loadClassifierJudge } from "../safety/judge/index.js";
import { BUILTIN_MODEL, type JobSpec } from "./spec.js";

export interface ResourceOptions {
  /** Downloads, derived graphs and the built-in model. */
  cacheDir: string;
  offline?: boolean;
  threads?: number;
  deviceId?: number;
  /** Overrides every spec's device (a worker started with --device). */
  device?: JobSpec["device"];
  /**
   * Traces decoding at once across instances (continuous batching); null or unset: the
   * per-instance loop, one instance at a time. Predictions do not depend on it.
   */
  maxRows?: number | null;
  onNote?: (note: string) => void;
  onDownload?: (file: string, done: number, total: number) => void;
}

/** A model running in its own thread, with what manifests record about it. */
export interface RunModel extends TraceSampler {
  readonly info: ThreadInfo;
  close(): Promise<void>;
}

const modelSpecOf = (spec: JobSpec) =>
  spec.model.revision === null ? spec.model.id : `${spec.model.id}@${spec.model.revision}`;

export class JobResources {
  private readonly models = new Map<string, Promise<RunModel>>();
  private readonly benchmarks = new Map<string, Promise<LoadedBenchmark>>();
  private readonly judges = new Map<string, Promise<ClassifierJudge>>();

  constructor(readonly options: ResourceOptions) {}

  /** The models loaded now, by key: a worker reports them and prefers jobs that fit. */
  get loadedModels(): string[] {
    return [...this.models.keys()];
  }

  model(spec: JobSpec): Promise<RunModel> {
    const topk = Math.max(spec.params.topk, spec.params.sampling.topK);
    const device = this.options.device ?? spec.device;
    const key = `${modelSpecOf(spec)}|${spec.dtype}|${device}|top${topk}`;
    let model = this.models.get(key);
    if (model === undefined) {
      model = this.loadModel(spec, device, topk);
      this.models.set(key, model);
      // A failed load is not cached: the next job may find the files (or the network) there.
      model.catch(() => this.models.delete(key));
    }
    return model;
  }

  benchmark(spec: JobSpec): Promise<LoadedBenchmark> {
    const { limit } = spec.selection;
    const key = JSON.stringify([spec.benchmark.spec, limit, spec.fieldMap]);
    let benchmark = this.benchmarks.get(key);
    if (benchmark === undefined) {
      benchmark = this.loadBenchmark(spec.benchmark.spec, limit, spec.fieldMap);
      this.benchmarks.set(key, benchmark);
      benchmark.catch(() => this.benchmarks.delete(key));
    }
    return benchmark;
  }

  /** Ends every model thread. */
  /** The classifier judge of a `classifier:HUB_ID|PATH` spec, loaded once per process. */
  judge(spec: string): Promise<ClassifierJudge> {
    let judge = this.judges.get(spec);
    if (judge === undefined) {
      judge = loadClassifierJudge(spec, {
        cacheDir: this.options.cacheDir,
        offline: this.options.offline,
        threads: this.options.threads,
        onProgress: this.options.onDownload,
      });
      this.judges.set(spec, judge);
      judge.then(
        (loaded) => {
          for (const note of loaded.notes) this.options.onNote?.(note);
        },
        () => this.judges.delete(spec),
      );
    }
    return judge;
  }

  async close(): Promise<void> {
    const models = [...this.models.values()];
    const judges = [...this.judges.values()];
    this.models.clear();
    this.judges.clear();
    await Promise.all([
      ...models.map((m) => m.then((model) => model.close()).catch(() => undefined)),
      ...judges.map((j) => j.then((judge) => judge.close()).catch(() => undefined)),
    ]);
  }

  private async loadBenchmark(spec: string, limit: number | null, fieldMap: FieldMap | null) {
    const benchmark = await loadBenchmark(spec, {
      cacheDir: this.options.cacheDir,
      offline: this.options.offline,
      limit: limit ?? undefined,
      fieldMap: fieldMap ?? undefined,
      onProgress: this.options.onDownload,
    });
    for (const note of benchmark.notes) this.options.onNote?.(note);
    return benchmark;
  }

  private async loadModel(spec: JobSpec, device: JobSpec["device"], topk: number) {
    const { cacheDir, offline } = this.options;
    let path = modelSpecOf(spec);
    if (spec.model.id === BUILTIN_MODEL) path = await builtinModelDir(cacheDir);
    else {
      // Downloads happen here, where progress can be shown; the thread then reads the cache.
      await resolveModel(path, {
        dtype: spec.dtype,
        cacheDir,
        offline,
        onProgress: this.options.onDownload,
      });
    }
    const { thread, info } = await DecoderThread.start(path, {
      dtype: spec.dtype,
      device,
      deviceId: this.options.deviceId,
      threads: this.options.threads,
      topk,
      cacheDir,
      offline: true,
    });
    for (const note of info.notes) this.options.onNote?.(note);
    const model: RunModel = {
      name: spec.model.id,
      info,
      promptIds: (chat) => thread.promptIds(chat),
      sample: async (request, options) => {
        const maxRows = this.options.maxRows ?? undefined;
        return (await thread.generate([request], { ...options, maxRows })).traces;
      },
      close: () => thread.close(),
    };
    return model;
  }
}

/** The built-in test model's folder, built on first use (a few seconds, deterministic). */
export async function builtinModelDir(cacheDir: string): Promise<string> {
  const dir = join(cacheDir, "test-models", "tiny-seed0");
  if (!existsSync(join(dir, "config.json")))
    await buildTestModel({ out: dir, shape: "tiny", seed: 0, overwrite: true });
  return dir;
}

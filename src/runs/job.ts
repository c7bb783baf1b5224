/**
 * runJob: the one function that does a job's work (the CLI, queue workers and tests all call
 * it). It runs each benchmark instance not yet finished and hands every prediction to the sink
 * as soon as it exists; where the sink writes (a run directory, a remote orchestrator) is not
 * its business.
 */
import type { LoadedBenchmark } from "../datasets/types.js";
import type { LoadedModel } from "../inference/model.js";
import { runInstance } from "../safety/instance.js";
import { bucketOf } from "../safety/label.js";
import type { Method, MethodParams } from "../safety/methods.js";
import type { RefusalOptions } from "../safety/refusal/index.js";
import type { PredictionRecord } from "../safety/types.js";
import { confidenceThreshold } from "./summary.js";

export interface Job {
  model: LoadedModel;
  benchmark: LoadedBenchmark;
  method: Method;
  params: MethodParams;
  /** Run seed; each instance derives its own from it and its id (order and resume proof). */
  seed: number;
  measureBaseline: boolean;
  refusal?: RefusalOptions;
}

export interface ResultSink {
  /** Predictions already made (a resumed run): their instances are skipped. */
  readonly finished: readonly PredictionRecord[];
  append(prediction: PredictionRecord): Promise<void>;
  /** Called after each instance with the counts so far. */
  progress?(done: number, total: number, prediction: PredictionRecord): void;
}

export interface JobOutcome {
  total: number;
  done: number;
  /** Stopped by the signal before all instances finished. */
  interrupted: boolean;
}

/** A 32-bit FNV-1a hash: the per-instance seed. */
export function instanceSeed(seed: number, instanceId: string): number {
  let hash = 0x811c9dc5 ^ seed;
  for (const char of `${seed}:${instanceId}`) {
    hash ^= char.codePointAt(0) as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export async function runJob(
  job: Job,
  sink: ResultSink,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const all = [...sink.finished];
  const done = new Set(all.map((p) => p.instance_id));
  const total = job.benchmark.items.length;
  for (const item of job.benchmark.items) {
    if (done.has(item.id)) continue;
    if (signal?.aborted) return { total, done: done.size, interrupted: true };
    const prediction = await runInstance(item, {
      model: job.model,
      method: job.method,
      params: job.params,
      seed: instanceSeed(job.seed, item.id),
      refusal: job.refusal,
      measureBaseline: job.measureBaseline,
    });
    // An abort during the instance lets it finish and be written: nothing done is thrown away.
    all.push(prediction);
    prediction.threshold = confidenceThreshold(all, job.params.bucketPercentile);
    prediction.bucket = bucketOf(prediction.refused, prediction.confidence, prediction.threshold);
    await sink.append(prediction);
    done.add(item.id);
    sink.progress?.(done.size, total, prediction);
  }
  return { total, done: done.size, interrupted: false };
}

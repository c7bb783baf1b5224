/**
 * runJob: the one function that does a job's work (the CLI, queue workers and tests all call
 * it). It turns a JobSpec into a loaded model and benchmark (through a per-process cache), runs
 * each selected instance not yet finished and hands every prediction to the sink as soon as it
 * exists; where the sink writes (a run directory, a remote orchestrator) is not its business.
 *
 * A prediction depends on its spec and instance alone, never on what was written before it, so
 * a line appended by another process (a retried shard, a second worker) is right on its own.
 * Buckets need the run's final confidence threshold: summaries and analysis compute them.
 */
import { runInstance } from "../safety/instance.js";
import type { InstanceConfidences, PredictionRecord } from "../safety/types.js";
import type { JobResources } from "./resources.js";
import { type JobSpec, runIdOf, selectItems } from "./spec.js";

export interface ResultSink {
  /** Instance ids already finished (a resumed run, a retried shard): they are skipped. */
  readonly finished: ReadonlySet<string>;
  /**
   * One finished instance: its prediction line and its traces' token confidences (kept beside
   * the line, in the run's confidences.bin; a sink that has no use for them ignores them).
   */
  append(prediction: PredictionRecord, confidences: InstanceConfidences): Promise<void>;
  /** Called after each instance with the counts of this job's selection so far. */
  progress?(done: number, total: number, prediction: PredictionRecord): void;
}

export interface JobOutcome {
  runId: string;
  /** Instances the spec selects. */
  total: number;
  /** Of those, finished (now or before). */
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

export interface RunJobOptions {
  resources: JobResources;
  /** Aborting lets the instance in flight finish and be written, then returns. */
  signal?: AbortSignal;
}

/**
 * Instances run at once so that about `maxRows` traces decode together: each has at most one
 * round of traces in flight (its warmup, then `parallel` at a time; `budget` for the offline
 * methods), and twice that many keep the batch full while rounds end and start.
 */
export function instancesInFlight(spec: JobSpec, maxRows: number | null | undefined): number {
  if (maxRows === null || maxRows === undefined) return 1;
  const online = spec.method === "deepconf-low" || spec.method === "deepconf-high";
  const round = online ? Math.min(spec.params.warmup, spec.params.parallel) : spec.params.budget;
  return Math.max(1, Math.ceil((2 * maxRows) / Math.max(1, round)));
}

export async function runJob(
  spec: JobSpec,
  sink: ResultSink,
  { resources, signal }: RunJobOptions,
): Promise<JobOutcome> {
  const runId = runIdOf(spec);
  const [model, benchmark] = await Promise.all([resources.model(spec), resources.benchmark(spec)]);
  // After the model: tokenizer loading sets a process-wide folder, so never two at once.
  const judge = spec.judge ? await resources.judge(spec.judge) : null;
  const items = selectItems(benchmark.items, spec.selection);
  const total = items.length;
  let done = items.filter((item) => sink.finished.has(item.id)).length;
  const queue = items.filter((item) => !sink.finished.has(item.id));
  let interrupted = false;
  // Each lane takes the next instance until none is left; with one lane this is the
  // per-instance loop. Predictions go to the sink as they finish, in finishing order.
  const lane = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      if (signal?.aborted) {
        interrupted = true;
        return;
      }
      const { prediction, confidences } = await runInstance(item, {
        model,
        method: spec.method,
        params: spec.params,
        seed: instanceSeed(spec.seed, item.id),
        refusal: spec.refusal ?? undefined,
        measureBaseline: spec.measureBaseline,
      }).catch((error: unknown) => {
        queue.length = 0; // the other lanes finish their instance in flight and stop
        throw error;
      });
      if (judge !== null) {
        const verdicts = await judge.judge(prediction.traces.map((trace) => trace.text));
        prediction.traces.forEach((trace, i) => {
          trace.judge = verdicts[i] ?? null;
        });
      }
      await sink.append({ run_id: runId, ...prediction }, confidences);
      done++;
      sink.progress?.(done, total, prediction);
    }
  };
  const lanes = Math.min(queue.length, instancesInFlight(spec, resources.options.maxRows));
  const results = await Promise.allSettled(Array.from({ length: lanes }, lane));
  // A failure ends the job once the other lanes' instances in flight are written.
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return {
    runId,
    total,
    done,
    interrupted: interrupted || ((signal?.aborted ?? false) && done < total),
  };
}

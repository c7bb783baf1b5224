/**
 * Where a sweep stands, from the truth on disk (which instances each run directory holds) and,
 * when a queue carries it, from the queue's shard states and worker heartbeats. Files are only
 * read: a line being written is skipped, never cut.
 */
import { loadRun } from "../analysis/load.js";
import { summarize } from "../runs/summary.js";
import { runDir, type SweepManifest } from "./directory.js";

export type ShardState = "waiting" | "active" | "done" | "failed" | "cancelled";
export type SweepState = "waiting" | "running" | "done" | "failed" | "cancelled";

export interface QueueView {
  /** Queue state by job id; a job the queue does not know is absent. */
  shards: Map<string, { state: ShardState; error?: string }>;
  workers: WorkerView[];
  cancelled: boolean;
}

export interface WorkerView {
  id: string;
  host: string;
  device: string;
  models: string[];
  current_job: string | null;
  last_heartbeat: string;
}

export interface RunStatus {
  run_id: string;
  model: string;
  benchmark: string;
  method: string;
  instances: { done: number; total: number };
  shards: Record<ShardState, number>;
  tokens: { generated: number; baseline: number; per_second: number | null };
  early_stop_rate: number | null;
  /** Over answered instances so far; null before any. */
  accuracy: number | null;
  savings: number | null;
  /** Seconds to finish at the pace so far (one worker's pace); null before any instance. */
  eta_seconds: number | null;
  errors: string[];
}

export interface SweepStatus {
  sweep_id: string;
  state: SweepState;
  instances: { done: number; total: number };
  shards: Record<ShardState, number>;
  runs: RunStatus[];
  workers: WorkerView[];
}

const emptyShards = (): Record<ShardState, number> => ({
  waiting: 0,
  active: 0,
  done: 0,
  failed: 0,
  cancelled: 0,
});

export async function sweepStatus(
  sweep: SweepManifest,
  out: string,
  queue: QueueView | null = null,
): Promise<SweepStatus> {
  const runs: RunStatus[] = [];
  for (const run of sweep.runs) {
    const loaded = await loadRun(runDir(out, run.run_id));
    const planned = new Set(run.shards.flatMap((s) => s.instance_ids));
    const predictions = loaded.predictions.filter((p) => planned.has(p.instance_id));
    const have = new Set(predictions.map((p) => p.instance_id));
    const shards = emptyShards();
    const errors: string[] = [];
    for (const shard of run.shards) {
      // The disk decides done; the queue says what is happening to the rest.
      const onDisk = shard.instance_ids.every((id) => have.has(id));
      const queued = queue?.shards.get(shard.job_id);
      const state: ShardState = onDisk
        ? "done"
        : ((queued?.state === "done" ? "active" : queued?.state) ??
          (queue?.cancelled ? "cancelled" : "waiting"));
      shards[state]++;
      if (queued?.error && state === "failed") errors.push(`${shard.job_id}: ${queued.error}`);
    }
    const summary = summarize(predictions, run.spec.params.bucketPercentile, run.instances);
    const seconds = predictions.reduce((s, p) => s + p.elapsed_ms, 0) / 1000;
    const remaining = run.instances - have.size;
    runs.push({
      run_id: run.run_id,
      model: run.spec.model.id,
      benchmark: run.spec.benchmark.spec,
      method: run.spec.method,
      instances: { done: have.size, total: run.instances },
      shards,
      tokens: {
        generated: summary.tokens.generated,
        baseline: summary.tokens.baseline,
        per_second: seconds > 0 ? summary.tokens.generated / seconds : null,
      },
      early_stop_rate: summary.early_stop_rate,
      accuracy: summary.accuracy,
      savings: summary.tokens.savings,
      eta_seconds: have.size > 0 ? (remaining * seconds) / have.size : null,
      errors,
    });
  }
  const shards = emptyShards();
  for (const run of runs)
    for (const key of Object.keys(shards) as ShardState[]) shards[key] += run.shards[key];
  const done = runs.reduce((s, r) => s + r.instances.done, 0);
  const total = runs.reduce((s, r) => s + r.instances.total, 0);
  const all = Object.values(shards).reduce((a, b) => a + b, 0);
  const state: SweepState =
    shards.done === all
      ? "done"
      : shards.failed > 0 && shards.active + shards.waiting === 0
        ? "failed"
        : queue?.cancelled && shards.active === 0
          ? "cancelled"
          : shards.active > 0 || done > 0
            ? "running"
            : "waiting";
  return {
    sweep_id: sweep.sweep_id,
    state,
    instances: { done, total },
    shards,
    runs,
    workers: queue?.workers ?? [],
  };
}

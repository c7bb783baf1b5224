/** Records that cross Redis between the orchestrator, workers and the collector. */
import type { JobSpec } from "../runs/spec.js";

/** A shard job's data: plain JSON, no secrets (Redis stores it in clear text). */
export interface ShardData {
  sweepId: string;
  spec: JobSpec;
}

/**
 * A shard job's progress: instances of its selection already delivered to the results stream.
 * A retried or recovered job skips `ids` (the stream has them: XADD comes before this update).
 */
export interface ShardProgress {
  runId: string;
  done: number;
  total: number;
  ids: string[];
}

/** What a completed shard job returns. */
export interface ShardResult {
  runId: string;
  done: number;
  total: number;
  /** Instances run by this attempt (the rest were delivered by earlier ones). */
  ran: number;
}

/**
 * How the failed reason of a shard stopped by `sweep cancel` begins: status counts such a shard
 * as cancelled, not failed.
 */
export const CANCELLED_REASON = "sweep cancelled";

/** Fields of one results stream entry. */
export const RESULT_FIELDS = {
  runId: "run_id",
  instanceId: "instance_id",
  jobId: "job_id",
  prediction: "prediction",
} as const;

/** What a worker says about itself every few seconds (a hash that expires when it stops). */
export interface WorkerHeartbeat {
  id: string;
  host: string;
  /** The `deepconf nodes` node it runs on, or null. */
  node: string | null;
  pid: number;
  /** The --device override, or "spec" when each job's own device is used. */
  device: string;
  deviceId: number | null;
  concurrency: number;
  state: "idle" | "busy" | "stopping";
  /** JobResources.loadedModels: model keys held in memory. */
  models: string[];
  jobs: Array<{ jobId: string; sweepId: string; runId: string; done: number; total: number }>;
  startedAt: string;
  /** Now while a job runs; else when the last one ended (the start, before any). */
  lastWorkAt: string;
  heartbeatAt: string;
}

export function parseProgress(value: unknown): ShardProgress | null {
  if (value === null || typeof value !== "object") return null;
  const p = value as Partial<ShardProgress>;
  if (!Array.isArray(p.ids) || !p.ids.every((id) => typeof id === "string")) return null;
  return {
    runId: typeof p.runId === "string" ? p.runId : "",
    done: typeof p.done === "number" ? p.done : p.ids.length,
    total: typeof p.total === "number" ? p.total : 0,
    ids: p.ids,
  };
}
